// Encodes texts with @huggingface/tokenizers (the studio's tokenizer) and prints the ids as JSON.
// usage: node tok_run.mjs tokenizer.json texts.json
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let mod;
try {
  mod = await import(require.resolve('@huggingface/tokenizers'));
} catch (err) {
  console.error(`@huggingface/tokenizers not found: run npm install in the repository root. ${err.message}`);
  process.exit(3);
}
const Tokenizer = mod.Tokenizer ?? mod.default?.Tokenizer;
const [tokPath, textsPath] = process.argv.slice(2);
const tok = new Tokenizer(JSON.parse(readFileSync(tokPath, 'utf8')), {});
const texts = JSON.parse(readFileSync(textsPath, 'utf8'));
process.stdout.write(JSON.stringify(texts.map((t) => Array.from(tok.encode(t).ids, Number))));
