/**
 * Ogg Opus decoded at the rate its consumer needs. libopus decodes natively to 8, 12, 16, 24 or
 * 48 kHz; audio-decode always asks it for 48 kHz, so a 16 kHz model paid for a 48 kHz decode (SILK
 * upsampled inside libopus) and then a 48k → 16k resample, about 2.3× the work of decoding at 16 kHz
 * (docs/benchmarks.md). Same libopus build (@audio/decode-opus's `core` API) and same Ogg parser
 * (codec-parser) as audio-decode; what this module adds is the stream bookkeeping at another rate:
 * pre-skip and end trimming are in 48 kHz units in the Ogg headers and are scaled here (the core's
 * pre-skip counts output samples), and one decoder instance per thread is reused across files.
 *
 * Below 48 kHz the output is band-limited as the resampler would have band-limited the 48 kHz decode
 * (passband 0.9, stopband 1.0 of the Nyquist frequency: the polyphase design run at 1:1). Without it,
 * libopus's own reduced-rate output keeps ~12 dB more energy between 0.95 and 1.0 of Nyquist, which
 * moved the demo bundle's top label on 11 % of 360 real clips against the 48 kHz path and the
 * training decode; with it, 99.7 % agree with the 48 kHz path (docs/benchmarks.md, opus-decode bench).
 */
import CodecParser, { type OggPage, type OpusHeader } from 'codec-parser';
import { createOpusDecoder, type OpusPacketDecoder } from '@audio/decode-opus/core';
import { PolyphaseResampler } from './polyphase-resampler';
import { concatSamples } from './signal';

/** Output rates libopus decodes to without resampling. */
export const OPUS_RATES = [8000, 12000, 16000, 24000, 48000] as const;
export type OpusRate = (typeof OPUS_RATES)[number];

/** Ogg Opus granule positions and pre-skip count samples at 48 kHz whatever the output rate. */
const GRANULE_RATE = 48000;

/**
 * The lowest rate libopus decodes to that is at least `wanted` (so resampling from it only goes
 * down, or not at all); 48 kHz when nothing lower will do.
 */
export function opusRateFor(wanted: number): OpusRate {
  return OPUS_RATES.find((r) => r >= wanted) ?? 48000;
}

/** Vorbis channel order for mapping family 1 (RFC 7845 §5.1.1.2), as audio-decode applies it. */
const FAMILY1_ORDER: Record<number, number[]> = {
  3: [0, 2, 1],
  5: [0, 2, 1, 3, 4],
  6: [0, 2, 1, 5, 3, 4],
  7: [0, 2, 1, 6, 5, 3, 4],
  8: [0, 2, 1, 7, 5, 6, 3, 4],
};

function channelMapping(header: OpusHeader): number[] | undefined {
  const table = header.channelMappingTable;
  const order = table ? FAMILY1_ORDER[table.length] : undefined;
  return header.channelMappingFamily === 1 && order ? order.map((i) => table[i]!) : table;
}

/** libopus instances free for reuse on this thread (instantiating its wasm costs more than a short clip). */
const idle: OpusPacketDecoder[] = [];

export interface DecodedChunk {
  channelData: Float32Array[];
  sampleRate: number;
}

export interface OggOpusOptions {
  /** Band-limit output below 48 kHz as the resampler would (default true; false only to measure why). */
  bandLimit?: boolean;
  /**
   * The bytes are the stream's header pages followed by audio pages from a seek point (ogg-seek.ts):
   * the granule position (48 kHz) where the first audio page starts. No pre-skip is dropped then (the
   * caller places the first sample by this position), and the end is trimmed from it.
   */
  startGranule?: number;
}

/**
 * Decodes an Ogg Opus byte stream at `rate`, chunk by chunk. Chained streams are decoded one after
 * another; each logical stream's pre-skip is dropped and its last page's granule position trims
 * the end, as RFC 7845 asks. A damaged packet is skipped, as audio-decode does.
 */
export async function* decodeOggOpus(
  chunks: AsyncIterable<Uint8Array>,
  rate: OpusRate,
  { bandLimit = true, startGranule }: OggOpusOptions = {},
): AsyncGenerator<DecodedChunk> {
  const decoder = idle.pop() ?? (await createOpusDecoder());
  const parser = new CodecParser('application/ogg', {
    enableFrameCRC32: false,
    onCodec: (codec) => {
      if (codec !== 'opus') throw new Error(`not an Opus stream (${codec})`);
    },
  });
  const scale = rate / GRANULE_RATE;
  let configured = false;
  let decodedInStream = 0; // samples at `rate` decoded since the stream's start (after pre-skip)
  let preSkip = 0;
  let samplesBeforeStream = 0; // codec-parser's running total (48 kHz) when this stream began
  let firstStream = true;
  let held: Float32Array[] | null = null; // the last output, kept until we know whether to trim it
  let bandLimits: PolyphaseResampler[] = []; // one per channel of the current stream, below 48 kHz

  /** A chunk as it leaves: band-limited below 48 kHz (stateful per channel), with the stream's tail when it ends. */
  const release = (channels: Float32Array[], end: boolean): DecodedChunk => {
    if (rate === GRANULE_RATE || !bandLimit) return { channelData: channels, sampleRate: rate };
    if (bandLimits.length !== channels.length) bandLimits = channels.map(() => PolyphaseResampler.create(rate, rate)!);
    const channelData = channels.map((c, i) => {
      const out = bandLimits[i]!.process(c);
      return end ? concatSamples([out, bandLimits[i]!.flush()]) : out;
    });
    if (end) bandLimits = [];
    return { channelData, sampleRate: rate };
  };

  function* pages(list: Iterable<OggPage>): Generator<DecodedChunk> {
    for (const page of list) {
      const frames = page.codecFrames;
      if (frames.length) {
        if (!configured) {
          const header = frames[0]!.header as OpusHeader;
          preSkip = header.preSkip;
          decoder.configure({
            sampleRate: rate,
            channels: header.channels,
            streamCount: header.streamCount,
            coupledStreamCount: header.coupledStreamCount,
            channelMappingTable: channelMapping(header),
            preSkip: startGranule === undefined ? Math.round(preSkip * scale) : 0,
            outputGain: header.outputGain,
          });
          configured = true;
          decodedInStream = 0;
        }
        const out = decoder.decodeFrames(frames.map((f) => f.data));
        if (out.samplesDecoded) {
          decodedInStream += out.samplesDecoded;
          if (held) yield release(held, false);
          held = out.channelData;
        }
      }
      if (page.isLastPage && configured) {
        // the last page's granule position says how many samples the stream really holds
        const total =
          firstStream && startGranule !== undefined
            ? Number(page.absoluteGranulePosition) - startGranule
            : firstStream
              ? Number(page.absoluteGranulePosition) - preSkip
              : page.totalSamples - samplesBeforeStream;
        const excess = decodedInStream - Math.round(total * scale);
        if (held && excess > 0) {
          const keep = Math.max(0, held[0]!.length - excess);
          held = held.map((c) => c.subarray(0, keep));
        }
        if (held || bandLimits.length) yield release(held ?? bandLimits.map(() => new Float32Array(0)), true);
        held = null;
        samplesBeforeStream = page.totalSamples;
        firstStream = false;
        decoder.unconfigure();
        configured = false;
      }
    }
  }

  // codec-parser types these as Iterators; they are generators, and from an Ogg stream they give pages
  const asPages = (it: Iterator<unknown>) => it as unknown as Iterable<OggPage>;
  try {
    for await (const chunk of chunks) yield* pages(asPages(parser.parseChunk(chunk)));
    yield* pages(asPages(parser.flush()));
    // a stream cut before its last page: keep what was decoded
    if (held || bandLimits.length) yield release(held ?? bandLimits.map(() => new Float32Array(0)), true);
  } finally {
    decoder.unconfigure();
    idle.push(decoder);
  }
}

/** A whole Ogg Opus file's samples at `rate`, channels kept. */
export async function decodeOggOpusBytes(
  bytes: Uint8Array,
  rate: OpusRate,
  options: OggOpusOptions = {},
): Promise<DecodedChunk> {
  const parts: Float32Array[][] = [];
  let channels = 0;
  async function* once() {
    yield bytes;
  }
  for await (const chunk of decodeOggOpus(once(), rate, options)) {
    channels = Math.max(channels, chunk.channelData.length);
    parts.push(chunk.channelData);
  }
  // a chained stream with fewer channels contributes silence to the ones it lacks
  const channelData = Array.from({ length: channels }, (_, i) =>
    concatSamples(parts.map((p) => p[i] ?? new Float32Array(p[0]!.length))),
  );
  return { channelData, sampleRate: rate };
}
