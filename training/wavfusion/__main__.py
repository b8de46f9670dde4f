"""Command line: python -m wavfusion {train,make-corpus,ablation,parity-fixtures,export,evaluate} ..."""
from __future__ import annotations

import argparse
import json
import os
import sys


def _flush_print(*a, **k):
    print(*a, **k, flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m wavfusion", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="train a model and write a bundle")
    t.add_argument("--data", required=True, help="studio export folder, or CSV/JSONL manifest (path,text,label,speaker)")
    t.add_argument("--config", default="tiny", choices=["tiny", "base"])
    t.add_argument("--out", required=True, help="bundle folder to write")
    t.add_argument("--name", default=None)
    t.add_argument("--epochs", type=int, default=12)
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--lr", type=float, default=None, help="default 1e-3 (tiny) / 1e-4 (base, fusion and head)")
    t.add_argument("--encoder-lr", type=float, default=None, help="lr of loaded pretrained encoders (default 2e-5)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--fusion", choices=["gca", "concat", "audio", "text"], default=None)
    t.add_argument("--lambda-mar", type=float, default=None)
    t.add_argument("--text-dropout", type=float, default=None)
    t.add_argument("--num-shallow-layers", type=int, default=None, help="shallow/deep split point")
    t.add_argument("--audio-checkpoint", default=None, help="wav2vec2 weights (.safetensors / pytorch_model.bin / folder)")
    t.add_argument("--text-checkpoint", default=None, help="roberta weights (.safetensors / pytorch_model.bin / folder)")
    t.add_argument("--tokenizer", default=None, help="tokenizer.json (default: train a byte-level BPE on the transcripts)")
    t.add_argument("--vocab-size", type=int, default=1000)
    t.add_argument("--max-seconds", type=float, default=None)
    t.add_argument("--train-crop-seconds", type=float, default=None, help="random crop of training clips")
    t.add_argument("--max-val-items", type=int, default=None, help="random subset of the validation split")
    t.add_argument("--max-train-items", type=int, default=None, help="random subset of the training split")
    t.add_argument("--save-each-best", action="store_true",
                   help="rewrite the bundle whenever validation UA improves (stop the run any time)")
    t.add_argument("--no-noise", action="store_true", help="disable noise/gain augmentation")

    c = sub.add_parser("make-corpus", help="synthesise the espeak-ng demo corpus (studio export layout)")
    c.add_argument("--out", required=True)
    c.add_argument("--train", type=int, default=2000)
    c.add_argument("--validation", type=int, default=400)
    c.add_argument("--test", type=int, default=400)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--jobs", type=int, default=2)

    a = sub.add_parser("ablation", help="audio / text / concat / GCA / GCA+L_mar on the synthetic test split")
    a.add_argument("--data", default=None, help="corpus folder (default: generate .cache/ablation-corpus)")
    a.add_argument("--out", required=True, help="folder for results.json and table.md")
    a.add_argument("--seeds", type=int, nargs="+", default=[0])
    a.add_argument("--epochs", type=int, default=4)
    a.add_argument("--max-train-items", type=int, default=400)
    a.add_argument("--max-seconds", type=float, default=1.5, help="random training crop (evaluation uses whole clips)")
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--variants", nargs="+", default=None)

    f = sub.add_parser("parity-fixtures", help="write runtime parity fixtures from a bundle's PyTorch weights")
    f.add_argument("--model", required=True)
    f.add_argument("--out", required=True)
    f.add_argument("--corpus", default=None, help="folder of WAV clips with metadata.csv (default: synthesise)")

    e = sub.add_parser("export", help="re-export model.onnx of a bundle from its model.pt")
    e.add_argument("--model", required=True)

    ev = sub.add_parser("evaluate", help="evaluate a bundle's PyTorch weights on a corpus split")
    ev.add_argument("--model", required=True)
    ev.add_argument("--data", required=True)
    ev.add_argument("--split", default="test")

    args = p.parse_args(argv)
    if args.cmd == "train":
        from .train import train

        lr = args.lr if args.lr is not None else (1e-3 if args.config == "tiny" else 1e-4)
        enc_lr = args.encoder_lr if args.encoder_lr is not None else 2e-5
        res = train(args.data, args.out, config=args.config, epochs=args.epochs, batch_size=args.batch_size, lr=lr,
                    encoder_lr=enc_lr, seed=args.seed, threads=args.threads, fusion=args.fusion,
                    lambda_mar=args.lambda_mar, text_dropout=args.text_dropout,
                    num_shallow_layers=args.num_shallow_layers, audio_checkpoint=args.audio_checkpoint,
                    text_checkpoint=args.text_checkpoint, tokenizer=args.tokenizer, vocab_size=args.vocab_size,
                    max_seconds=args.max_seconds, max_train_items=args.max_train_items, max_val_items=args.max_val_items, train_crop_seconds=args.train_crop_seconds, name=args.name, noise=not args.no_noise, save_each_best=args.save_each_best, log=_flush_print)
        print(json.dumps(res["training_info"]["metrics"], indent=1))
        return 0
    if args.cmd == "make-corpus":
        from .corpus import generate_corpus

        info = generate_corpus(args.out, args.train, args.validation, args.test, seed=args.seed, jobs=args.jobs,
                               log=_flush_print)
        print(json.dumps(info["counts"]))
        return 0
    if args.cmd == "ablation":
        from .ablation import run_ablation

        run_ablation(args.out, data=args.data, seeds=args.seeds, epochs=args.epochs,
                     max_train_items=args.max_train_items, threads=args.threads, variants=args.variants,
                     max_seconds=args.max_seconds,
                     log=_flush_print)
        return 0
    if args.cmd == "parity-fixtures":
        from .parity import write_parity_fixtures

        write_parity_fixtures(args.model, args.out, corpus=args.corpus, log=_flush_print)
        return 0
    if args.cmd == "export":
        from .export import export_onnx, load_bundle

        model, _tok, meta = load_bundle(args.model)
        export_onnx(model, os.path.join(args.model, meta.get("model", "model.onnx")))
        print(f"re-exported {args.model}/model.onnx")
        return 0
    if args.cmd == "evaluate":
        from .data import Batcher, load_audio_cache, load_corpus
        from .export import load_bundle
        from .train import evaluate

        model, tok, meta = load_bundle(args.model)
        corpus = load_corpus(args.data)
        items = corpus.split(args.split)
        unknown = sorted({it.label for it in items} - set(meta["labels"]))
        if unknown:
            raise SystemExit(f"labels {unknown} are not among the model's labels {meta['labels']}")
        load_audio_cache(items)
        b = Batcher(items, meta["labels"], tok, 16, meta["max_text_tokens"], train=False,
                    max_samples=int(meta["max_seconds"] * 16000))
        print(json.dumps(evaluate(model, b)["metrics"], indent=1))
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
