/**
 * What the importer stores about an audio file: its format, rate, channel count, duration, the SHA-256
 * of its bytes and its waveform peaks. A short file is read and decoded whole (one read, the quickest
 * for clips); a long one streams: its bytes are hashed as they are read (1 MiB
 * at a time for WAV, 64 KiB compressed) and decoded chunk by chunk into a running peak per bin, so a
 * 10-hour recording imports in bounded memory instead of holding its bytes and every decoded sample
 * (a 10-hour 16 kHz WAV: 1.1 GB of bytes + 2.3 GB of float samples). Both give the same numbers
 * (tests/integration/recording-analysis.test.ts).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { AudioFileError, decodeAudioFile, mp3FrameCoverage } from '../audio/decode';
import { decodeChunks, inspectAudioFile, streamsWhole } from '../audio/decode-stream';
import { computePeaks } from '../audio/signal';

/**
 * Files whose decoded audio could be larger than this stream (a 16 kHz mono WAV over ~35 minutes; a
 * compressed file by the audio its bytes may hold, `streamsWhole`: an Opus file over ~700 KB).
 */
export const STREAM_ABOVE_BYTES = 64 * 1024 * 1024;

export interface RecordingAnalysis {
  format: string;
  sampleRate: number;
  channels: number;
  durationS: number;
  /** SHA-256 of the file's bytes, hex. */
  checksum: string;
  /** Per bin of sampleRate / perSecond samples: the largest |sample| over the channels, at most 1. */
  peaks: Float32Array;
}

export async function analyseRecording(
  file: string,
  perSecond: number,
  { streamAboveBytes = STREAM_ABOVE_BYTES }: { streamAboveBytes?: number } = {},
): Promise<RecordingAnalysis> {
  const { format, size } = await inspectAudioFile(file);
  if (!streamsWhole(format, size, streamAboveBytes)) {
    const audio = await decodeAudioFile(file);
    return {
      format: audio.format,
      sampleRate: audio.sampleRate,
      channels: audio.channels.length,
      durationS: audio.durationS,
      checksum: createHash('sha256').update(audio.bytes).digest('hex'),
      peaks: computePeaks(audio.channels, audio.sampleRate, perSecond),
    };
  }
  if (format === 'mp3') checkMp3Head(file);
  const hash = createHash('sha256');
  let peaks: PeakAccumulator | null = null;
  let sampleRate = 0;
  let channels = 0;
  for await (const chunk of decodeChunks(file, format, { onBytes: (b) => hash.update(b) })) {
    if (!peaks) {
      sampleRate = chunk.sampleRate;
      peaks = new PeakAccumulator(sampleRate, perSecond);
    } else if (chunk.sampleRate !== sampleRate) {
      throw new AudioFileError(
        file,
        'unsupported',
        `its sample rate changes part-way (${sampleRate} Hz, then ${chunk.sampleRate} Hz); convert it to one rate`,
      );
    }
    channels = Math.max(channels, chunk.channelData.length);
    peaks.add(chunk.channelData);
  }
  if (!peaks || peaks.length === 0)
    throw new AudioFileError(file, 'corrupt', `no audio samples in this ${format.toUpperCase()} file`);
  return {
    format,
    sampleRate,
    channels,
    durationS: peaks.length / sampleRate,
    checksum: hash.digest('hex'),
    peaks: peaks.finish(),
  };
}

/** The frame check decodeAudioBytes makes on a whole MP3 (junk behind a tag decodes as "audio"), on its first MiB. */
function checkMp3Head(file: string): void {
  const head = Buffer.alloc(1 << 20);
  const fd = fs.openSync(file, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (mp3FrameCoverage(head.subarray(0, n)) < 0.5)
    throw new AudioFileError(file, 'not-audio', 'not an audio file: its content is not MP3 frames after the header');
}

/** computePeaks over a signal that arrives in chunks: the same bins, the same values. */
export class PeakAccumulator {
  private readonly binSize: number;
  private out = new Float32Array(1 << 16);
  private bins = 0;
  private bin = 0;
  private binEnd: number;
  private max = 0;
  /** Frames seen so far. */
  length = 0;

  constructor(sampleRate: number, perSecond: number) {
    this.binSize = sampleRate / perSecond;
    this.binEnd = Math.floor(this.binSize);
  }

  add(channels: readonly Float32Array[]): void {
    const n = channels[0]?.length ?? 0;
    const base = this.length;
    let k = 0;
    while (k < n) {
      // the part of this chunk that falls in the open bin
      const stop = Math.min(n, this.binEnd - base);
      if (stop <= k) {
        this.close();
        continue;
      }
      let m = this.max;
      for (const c of channels) {
        for (let j = k; j < stop; j++) {
          const v = Math.abs(c[j]!);
          if (v > m) m = v;
        }
      }
      this.max = m;
      k = stop;
    }
    this.length += n;
  }

  /** The peaks: ceil(length / binSize) bins (at least one). */
  finish(): Float32Array {
    const total = Math.max(1, Math.ceil(this.length / this.binSize));
    while (this.bins < total) this.close();
    return this.out.slice(0, total);
  }

  private close(): void {
    if (this.bins === this.out.length) {
      const grown = new Float32Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
    }
    this.out[this.bins++] = Math.min(1, this.max);
    this.max = 0;
    this.bin++;
    this.binEnd = Math.floor((this.bin + 1) * this.binSize);
  }
}
