import fs from 'node:fs';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { Precision, type Device } from '../../shared/contract';
import { createSession, cudaInstalled, gpuPresent, type CpuThreading, type SessionChoice } from './execution';
import type { ModelBundle } from './model-bundle';

export type ConcretePrecision = Exclude<Precision, 'auto'>;

/** The graph files of a bundle by precision: model.json's `variants` (python -m wavfusion quantize). */
export function bundleVariants(bundle: Pick<ModelBundle, 'dir' | 'manifest' | 'modelPath'>): {
  fp32: string;
  int8?: string;
} {
  const variants = (bundle.manifest as { variants?: Record<string, { file?: unknown }> }).variants;
  const file = variants?.int8?.file;
  if (typeof file !== 'string' || path.isAbsolute(file) || file.split(/[\\/]/).includes('..'))
    return { fp32: bundle.modelPath };
  const int8 = path.join(bundle.dir, file);
  return fs.existsSync(int8) ? { fp32: bundle.modelPath, int8 } : { fp32: bundle.modelPath };
}

/**
 * int8 on the CPU when the bundle has it (VNNI/AVX-512 int8 matmuls), float32 on a GPU; an explicit
 * request wins, and int8 asked of a bundle without it is an error.
 */
export function choosePrecision(
  requested: Precision,
  device: Exclude<Device, 'auto'>,
  hasInt8: boolean,
): ConcretePrecision {
  if (requested === 'int8' && !hasInt8)
    throw new Error('this model bundle has no int8 variant (python -m wavfusion quantize --model <bundle>)');
  if (requested !== 'auto') return requested;
  return device === 'cpu' && hasInt8 ? 'int8' : 'fp32';
}

/** The device `auto` would most likely end on, before any session is opened. */
function expectedDevice(device: Device): Exclude<Device, 'auto'> {
  if (device !== 'auto') return device;
  return cudaInstalled() || gpuPresent() ? 'cuda' : 'cpu';
}

/**
 * Opens the bundle's graph in the precision chosen for the device. The variant is guessed from the
 * requested device first, so a CPU-only machine opens one graph; if `auto` lands elsewhere than
 * guessed, the right variant is opened on the device it found.
 */
export async function openBundleSession(
  bundle: ModelBundle,
  device: Device,
  cpu: CpuThreading,
  requested: Precision = 'auto',
  open: (modelPath: string, device: Device, cpu: CpuThreading) => Promise<SessionChoice> = createSession,
): Promise<SessionChoice & { precision: ConcretePrecision }> {
  const variants = bundleVariants(bundle);
  const first = choosePrecision(requested, expectedDevice(device), !!variants.int8);
  const choice = await open(variants[first]!, device, cpu);
  const final = choosePrecision(requested, choice.device, !!variants.int8);
  if (final === first) return { ...choice, precision: first };
  await (choice.session as ort.InferenceSession).release();
  return { ...(await open(variants[final]!, choice.device, cpu)), precision: final };
}
