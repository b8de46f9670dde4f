import { Tokenizer } from '@huggingface/tokenizers';
import type { ModelManifest } from './model-bundle';

/**
 * Transcript → token ids with the bundle's tokenizer.json (Hugging Face tokenizers format, through
 * @huggingface/tokenizers). No transcript → the bundle's `empty_text_ids`, what the model was trained
 * with for audio-only input.
 */
export class TextEncoder {
  private readonly tokenizer: Tokenizer;

  constructor(
    tokenizerJson: Record<string, unknown>,
    private readonly manifest: ModelManifest,
  ) {
    this.tokenizer = new Tokenizer(tokenizerJson, {});
  }

  encode(text: string | null): { ids: number[]; textUsed: boolean } {
    const trimmed = (text ?? '').trim();
    if (!trimmed) return { ids: [...this.manifest.empty_text_ids], textUsed: false };
    let ids = this.tokenizer.encode(trimmed).ids.map(Number);
    const max = this.manifest.max_text_tokens;
    if (ids.length > max) ids = [...ids.slice(0, max - 1), ids[ids.length - 1]!];
    return { ids, textUsed: true };
  }
}
