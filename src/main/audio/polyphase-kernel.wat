;; The polyphase resampler's inner loop (src/main/audio/polyphase-resampler.ts), WebAssembly SIMD.
;; Compiled by `npm run build:wasm` (scripts/build-wasm.mjs, wabt) into polyphase-kernel.wasm.ts;
;; tests/unit/polyphase-resampler.test.ts checks that the committed bytes are this file's.
;;
;; fir(buf, coeffs, out, count, stride, up, down, i, p): for k in [0, count):
;;   out[k] = sum over j < stride of buf[i + j] * coeffs[p * stride + j]
;;   then p += down % up; i += down / up (+1 when p reaches up, then p -= up)
;; Pointers are byte offsets into memory; stride (taps per phase, zero-padded) is a multiple of 16.
(module
  (memory (export "memory") 1)
  (func (export "fir")
    (param $buf i32) (param $coeffs i32) (param $out i32) (param $count i32)
    (param $stride i32) (param $up i32) (param $down i32) (param $i i32) (param $p i32)
    (local $k i32) (local $x i32) (local $c i32) (local $j i32) (local $stepI i32) (local $stepP i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $stepI (i32.div_u (local.get $down) (local.get $up)))
    (local.set $stepP (i32.rem_u (local.get $down) (local.get $up)))
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $x (i32.add (local.get $buf) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $c
          (i32.add (local.get $coeffs) (i32.shl (i32.mul (local.get $p) (local.get $stride)) (i32.const 2))))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $a2 (v128.const f32x4 0 0 0 0))
        (local.set $a3 (v128.const f32x4 0 0 0 0))
        (local.set $j (local.get $stride))
        (loop $taps
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (v128.load align=4 (local.get $x)) (v128.load (local.get $c)))))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (v128.load offset=16 align=4 (local.get $x)) (v128.load offset=16 (local.get $c)))))
          (local.set $a2 (f32x4.add (local.get $a2)
            (f32x4.mul (v128.load offset=32 align=4 (local.get $x)) (v128.load offset=32 (local.get $c)))))
          (local.set $a3 (f32x4.add (local.get $a3)
            (f32x4.mul (v128.load offset=48 align=4 (local.get $x)) (v128.load offset=48 (local.get $c)))))
          (local.set $x (i32.add (local.get $x) (i32.const 64)))
          (local.set $c (i32.add (local.get $c) (i32.const 64)))
          (br_if $taps (local.tee $j (i32.sub (local.get $j) (i32.const 16)))))
        (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        (local.set $i (i32.add (local.get $i) (local.get $stepI)))
        (local.set $p (i32.add (local.get $p) (local.get $stepP)))
        (if (i32.ge_u (local.get $p) (local.get $up))
          (then
            (local.set $p (i32.sub (local.get $p) (local.get $up)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $outer)))))
