import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import type { Device } from '../../shared/contract';

export interface SessionChoice {
  session: ort.InferenceSession;
  device: Exclude<Device, 'auto'>;
  /** Why this device (and why not the ones tried before it). */
  note: string;
}

/** Physical cores (hyper-threads share one core's matrix units); logical count where unknown. */
export function physicalCores(): number {
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const cores = new Set<string>();
    let physical = '0';
    for (const line of info.split('\n')) {
      const [key, value] = line.split(':').map((s) => s?.trim());
      if (key === 'physical id') physical = value ?? '0';
      if (key === 'core id') cores.add(`${physical}:${value}`);
    }
    if (cores.size > 0) return cores.size;
  } catch {
    // not Linux
  }
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** onnxruntime-node ships CUDA support only when its install step downloaded it (see README). */
export function cudaInstalled(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const bin = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin');
    const found = fs.readdirSync(bin, { recursive: true }).some((f) => String(f).includes('providers_cuda'));
    return found;
  } catch {
    return false;
  }
}

/** A GPU the WebGPU backend could use (Dawn otherwise falls back to a slow software adapter). */
export function gpuPresent(): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  try {
    return fs.readdirSync('/dev/dri').some((d) => d.startsWith('renderD')) || fs.existsSync('/dev/nvidia0');
  } catch {
    return false;
  }
}

/** How a session uses the CPU's cores. */
export interface CpuThreading {
  /** Intra-op threads. */
  threads: number;
  /**
   * Whether idle intra-op threads spin waiting for the next run (onnxruntime's default). Spinning
   * saves a little latency per run but burns the cores that the front-end workers decode and
   * resample on: off when they share the cores (docs/benchmarks.md "End to end": 44.1 kHz WAV
   * +20 %, MP3 and Opus +15-19 %, 16 kHz WAV -4 %).
   */
  spinning: boolean;
}

/** Threading for `threads` model threads beside `frontEndWorkers` front-end workers on `cores` cores. */
export function cpuThreading(
  threads: number,
  frontEndWorkers: number,
  cores = os.availableParallelism(),
): CpuThreading {
  return { threads, spinning: frontEndWorkers === 0 || threads + frontEndWorkers <= cores };
}

/**
 * Opens the graph on the requested device. `auto` tries CUDA (when installed), then WebGPU (when a
 * GPU is present), then the CPU; an explicit device that cannot start is an error, not a fallback.
 */
export async function createSession(modelPath: string, device: Device, cpu: CpuThreading): Promise<SessionChoice> {
  const common: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: cpu.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...(cpu.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
  const open = (provider: 'cpu' | 'cuda' | 'webgpu') =>
    ort.InferenceSession.create(modelPath, { ...common, executionProviders: [provider] });
  if (device !== 'auto') {
    try {
      return { session: await open(device), device, note: `${device} requested` };
    } catch (err) {
      throw new Error(`cannot run on ${device}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
  }
  const skipped: string[] = [];
  if (cudaInstalled()) {
    try {
      return { session: await open('cuda'), device: 'cuda', note: 'CUDA' };
    } catch (err) {
      skipped.push(`CUDA failed: ${(err as Error).message.split('\n')[0]}`);
    }
  } else skipped.push('CUDA binaries not installed');
  if (gpuPresent()) {
    try {
      return { session: await open('webgpu'), device: 'webgpu', note: [...skipped, 'WebGPU'].join('; ') };
    } catch (err) {
      skipped.push(`WebGPU failed: ${(err as Error).message.split('\n')[0]}`);
    }
  } else skipped.push('no GPU for WebGPU');
  return { session: await open('cpu'), device: 'cpu', note: `${skipped.join('; ')}; CPU with ${cpu.threads} threads` };
}
