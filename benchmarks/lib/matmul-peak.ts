import * as ort from 'onnxruntime-node';

/**
 * Times a one-node MatMul graph (A [m, k] @ B [k, n], B inside the graph) in onnxruntime-node on the
 * CPU: one warm-up run, then runs for `seconds` (at least 3). GFLOP/s from the best and the median run.
 */
export async function timeMatmul(
  graph: { path: string; m: number; k: number; n: number },
  threads: number,
  seconds: number,
): Promise<{ bestS: number; gflops: number; medianGflops: number }> {
  const session = await ort.InferenceSession.create(graph.path, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  try {
    const a = new Float32Array(graph.m * graph.k).map(() => Math.random() - 0.5);
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', a, [graph.m, graph.k]) };
    await session.run(feeds);
    const times: number[] = [];
    const deadline = performance.now() + seconds * 1000;
    while (performance.now() < deadline || times.length < 3) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push((performance.now() - t0) / 1000);
    }
    times.sort((x, y) => x - y);
    const flop = 2 * graph.m * graph.k * graph.n;
    return { bestS: times[0]!, gflops: flop / times[0]! / 1e9, medianGflops: flop / times[times.length >> 1]! / 1e9 };
  } finally {
    await session.release();
  }
}
