import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuThreading, type SessionChoice } from '../../src/main/inference/execution';
import type { ModelBundle } from '../../src/main/inference/model-bundle';
import { bundleVariants, choosePrecision, openBundleSession } from '../../src/main/inference/precision';
import { tempDir } from '../helpers/fixtures';

const CPU = { threads: 2, spinning: true };

function fakeBundle(int8: boolean): ModelBundle {
  const dir = tempDir('precision-');
  fs.writeFileSync(path.join(dir, 'model.onnx'), 'fp32');
  if (int8) fs.writeFileSync(path.join(dir, 'model.int8.onnx'), 'int8');
  const manifest = {
    name: 'm',
    version: '1',
    labels: ['a', 'b'],
    sample_rate: 16000,
    max_seconds: 10,
    min_samples: 400,
    tokenizer: 'tokenizer.json',
    model: 'model.onnx',
    max_text_tokens: 64,
    empty_text_ids: [0, 2],
    pad_token_id: 1,
    variants: { fp32: { file: 'model.onnx' }, int8: { file: 'model.int8.onnx' } },
  };
  return {
    dir,
    manifest,
    modelPath: path.join(dir, 'model.onnx'),
    statisticsModelPath: null,
    tokenizerJson: {},
    checksum: 'x',
  };
}

describe('precision selection', () => {
  it('auto: int8 on the CPU when the bundle has it, float32 on a GPU or without it', () => {
    expect(choosePrecision('auto', 'cpu', true)).toBe('int8');
    expect(choosePrecision('auto', 'cpu', false)).toBe('fp32');
    expect(choosePrecision('auto', 'cuda', true)).toBe('fp32');
    expect(choosePrecision('auto', 'webgpu', true)).toBe('fp32');
  });

  it('an explicit request wins; int8 without the variant is an error', () => {
    expect(choosePrecision('fp32', 'cpu', true)).toBe('fp32');
    expect(choosePrecision('int8', 'cuda', true)).toBe('int8');
    expect(() => choosePrecision('int8', 'cpu', false)).toThrow(/no int8 variant.*wavfusion quantize/);
  });

  it('finds the int8 file named in model.json variants, only when it exists inside the bundle', () => {
    const b = fakeBundle(true);
    expect(bundleVariants(b)).toEqual({ fp32: b.modelPath, int8: path.join(b.dir, 'model.int8.onnx') });
    expect(bundleVariants(fakeBundle(false)).int8).toBeUndefined();
    const escaping = { ...b, manifest: { ...b.manifest, variants: { int8: { file: '../model.int8.onnx' } } } };
    expect(bundleVariants(escaping).int8).toBeUndefined();
    const none = { ...b, manifest: { ...b.manifest, variants: undefined } };
    expect(bundleVariants(none).int8).toBeUndefined();
  });

  it('opens one graph: int8 for the CPU, fp32 for CUDA; reopens when auto lands elsewhere', async () => {
    const b = fakeBundle(true);
    const opened: string[] = [];
    let released = 0;
    const open = (lands: 'cpu' | 'cuda') => async (file: string) => {
      opened.push(path.basename(file));
      return {
        session: { release: async () => void released++ },
        device: lands,
        note: lands,
      } as unknown as SessionChoice;
    };
    expect((await openBundleSession(b, 'cpu', CPU, 'auto', open('cpu'))).precision).toBe('int8');
    expect((await openBundleSession(b, 'cuda', CPU, 'auto', open('cuda'))).precision).toBe('fp32');
    expect((await openBundleSession(b, 'cpu', CPU, 'fp32', open('cpu'))).precision).toBe('fp32');
    expect(opened).toEqual(['model.int8.onnx', 'model.onnx', 'model.onnx']);
    // `auto` device guessed as a GPU but fell back to the CPU: the int8 graph is opened instead
    opened.length = 0;
    const r = await openBundleSession(b, 'cuda', CPU, 'auto', async (file, device) => {
      opened.push(path.basename(file));
      return {
        session: { release: async () => void released++ },
        device: opened.length === 1 ? 'cpu' : device,
        note: '',
      } as unknown as SessionChoice;
    });
    expect(r.precision).toBe('int8');
    expect(opened).toEqual(['model.onnx', 'model.int8.onnx']);
    expect(released).toBe(1);
  });
});

describe('cpuThreading', () => {
  it('stops idle model threads spinning only when front-end workers share their cores', () => {
    expect(cpuThreading(2, 1, 2)).toEqual({ threads: 2, spinning: false });
    expect(cpuThreading(8, 4, 16)).toEqual({ threads: 8, spinning: true });
    expect(cpuThreading(2, 0, 2)).toEqual({ threads: 2, spinning: true });
  });
});
