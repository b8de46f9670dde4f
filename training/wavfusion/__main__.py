"""Command line: python -m wavfusion {train,make-corpus,ablation,parity-fixtures,export,evaluate,quantize} ..."""
from __future__ import annotations

import argparse
import json
import os
import sys


def _flush_print(*a, **k):
    print(*a, **k, flush=True)


def parse_overrides(pairs) -> dict:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"--set expects KEY=VALUE, got {pair!r}")
        k, v = pair.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except ValueError:
            out[k.strip()] = v
    return out


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
    t.add_argument("--soft-labels", action="store_true",
                   help="train rows that carry the annotators' vote distribution (an export's soft_label column) "
                   "with cross-entropy against it instead of their one label")
    t.add_argument("--device", default="auto", help="auto (CUDA when available; LOCAL_RANK's GPU under torchrun), cpu, cuda")
    t.add_argument("--train-statistics-expert", action="store_true",
                   help="train a bundle's statistics expert with the network (default: it stays as fitted)")
    t.add_argument("--labels", default=None,
                   help="comma-separated label set (default: the labels found); rows with other labels are reported")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, e.g. --set audio.hidden_dropout=0 (value parsed as JSON when it can be)")
    t.add_argument("--init-from", default=None, metavar="BUNDLE",
                   help="start from this bundle's model.pt, tokenizer.json and labels (fine-tuning; see finetune.py)")

    tc = sub.add_parser("train-corpora", help="train on the real corpora (RAVDESS, TESS, nEMO), report per corpus")
    tc.add_argument("--out", default=None, help="bundle folder to write")
    tc.add_argument("--name", default=None)
    tc.add_argument("--root", default=None, help="corpora folder (default ../shared/corpora or $WAVFUSION_CORPORA)")
    tc.add_argument("--corpora", nargs="+", default=None, help="default: ravdess-speech tess nemo-pl")
    tc.add_argument("--synthetic", default=None, help="also train on this synthetic corpus folder (make-corpus)")
    tc.add_argument("--label-map", choices=["merge-calm", "drop-calm"], default="merge-calm")
    tc.add_argument("--test-corpus", default=None, help="leave-one-corpus-out: this corpus is the test set")
    tc.add_argument("--tess-test-speaker", default="tess_YAF", choices=["tess_YAF", "tess_OAF"])
    tc.add_argument("--config", default="tiny", choices=["tiny", "small", "base"])
    tc.add_argument("--feature-encoder", choices=["log-mel", "conv"], default="log-mel",
                    help="audio front end (conv: wav2vec 2.0's raw-sample conv stack; see training/README)")
    tc.add_argument("--fusion", choices=["gca", "concat", "audio", "text"], default=None)
    tc.add_argument("--lambda-mar", type=float, default=None)
    tc.add_argument("--epochs", type=int, default=20)
    tc.add_argument("--batch-size", type=int, default=16)
    tc.add_argument("--lr", type=float, default=1e-3)
    tc.add_argument("--seed", type=int, default=0, help="the speaker split's seed (and the training's, unless --train-seed)")
    tc.add_argument("--train-seed", type=int, default=None,
                    help="seed of the training alone (initialisation, order, crops); the split stays --seed's")
    tc.add_argument("--threads", type=int, default=2)
    tc.add_argument("--crop-seconds", type=float, default=3.0, help="random training crop")
    tc.add_argument("--speed-perturb", type=float, default=0.1, help="speed factor range 1 +- x (0: off)")
    tc.add_argument("--no-balance", action="store_true", help="uniform sampling instead of (corpus, label)-balanced")
    tc.add_argument("--no-noise", action="store_true")
    tc.add_argument("--max-train-items", type=int, default=None)
    tc.add_argument("--json", default=None, help="write the results (metrics, report, history) here")
    tc.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda")
    tc.add_argument("--init-from", default=None, metavar="BUNDLE",
                    help="continue from this bundle's weights and tokenizer (same labels and architecture; "
                    "--pooling may switch mean to mean-std, --log-mel-statistics may switch that path on)")
    tc.add_argument("--pooling", choices=["mean", "mean-std"], default=None,
                    help="utterance pooling: mean (the paper's, default) or mean-std (statistics pooling)")
    tc.add_argument("--log-mel-statistics", action="store_const", const=True, default=None,
                    help="add the utterance-statistics path (log-mel band means and deviations) beside the encoder; "
                    "--init-from may switch it on")
    tc.add_argument("--mel-warp", type=float, default=None,
                    help="training-time frequency warp of the mel axis, factor 1 +- x per clip (VTLP; log-mel front end)")
    tc.add_argument("--mask-mel-bands", type=int, default=None,
                    help="training-time SpecAugment frequency masks per clip (up to 8 bands each; log-mel front end)")
    tc.add_argument("--encoder-dropout", type=float, default=None,
                    help="training-time probability that a clip is classified by the utterance-statistics path alone "
                    "(needs --log-mel-statistics)")
    tc.add_argument("--speaker-normalise", action="store_const", const=True, default=None,
                    help="normalise the utterance-statistics path by each speaker's own statistics (mean and "
                    "deviation over the speaker's clips, no labels; needs --log-mel-statistics; --init-from may "
                    "switch it on)")
    tc.add_argument("--speaker-statistics-dropout", type=float, default=None,
                    help="training-time probability that a clip is normalised by the training set's statistics "
                    "instead of its speaker's (what the model does for utterances without a speaker)")
    tc.add_argument("--bundle-version", default=None, help="version written to model.json (e.g. 0.3.0)")
    tc.add_argument("--select-corpora", nargs="+", default=None, metavar="CORPUS",
                    help="choose the best epoch by validation UA on these corpora only (default: all validation "
                    "items; TESS's validation items are its training speaker's)")

    bl = sub.add_parser("baseline", help="log-mel statistics + MLP floor on the same corpora and split")
    bl.add_argument("--corpora", nargs="+", default=None)
    bl.add_argument("--label-map", choices=["merge-calm", "drop-calm"], default="merge-calm")
    bl.add_argument("--test-corpus", default=None)
    bl.add_argument("--seed", type=int, default=0)
    bl.add_argument("--speaker-normalise", action="store_true",
                    help="z-normalise the statistics per speaker (all of a speaker's clips, no labels) first")
    bl.add_argument("--json", default=None)

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

    sp = sub.add_parser("soup", help="average the weights of bundles fine-tuned from one initialisation (model soup)")
    sp.add_argument("--models", nargs="+", required=True, help="bundle folders (same architecture, labels, tokenizer)")
    sp.add_argument("--out", required=True)
    sp.add_argument("--name", default=None, help="name written to model.json (default: the first bundle's)")

    cb = sub.add_parser("calibrate", help="per-class offsets on the classifier bias, chosen on validation speakers")
    cb.add_argument("--model", required=True)
    cb.add_argument("--out", required=True)
    cb.add_argument("--corpora", nargs="+", default=[], help="shared corpora whose validation speakers are used")
    cb.add_argument("--synthetic", default=None, help="synthetic corpus folder (its validation split, with text)")
    cb.add_argument("--seed", type=int, default=0, help="the speaker split's seed (as train-corpora's --seed)")
    cb.add_argument("--name", default=None)

    fx = sub.add_parser("fit-statistics-expert",
                        help="add a classifier on the speaker-normalised statistics to a bundle (network frozen)")
    fx.add_argument("--model", required=True, help="a bundle with speaker-normalised statistics")
    fx.add_argument("--out", required=True)
    fx.add_argument("--corpora", nargs="+", default=None,
                    help="shared corpora (train and validation speakers; selection on their validation UA); "
                         "default: ravdess-speech tess nemo-pl")
    fx.add_argument("--synthetic", default=None, help="synthetic corpus folder (its training split too)")
    fx.add_argument("--data", default=None,
                    help="a studio export folder or manifest: fit on your own speakers (its own split; "
                         "without --corpora, the shared corpora are not read)")
    fx.add_argument("--seed", type=int, default=0, help="the speaker split's seed (as train-corpora's --seed)")
    fx.add_argument("--train-seed", type=int, default=0, help="the expert's initialisation and sampling")
    fx.add_argument("--epochs", type=int, default=150)
    fx.add_argument("--fallback-dropout", type=float, default=0.2,
                    help="share of training rows normalised by the training set's statistics, not the speaker's")
    fx.add_argument("--name", default=None)
    fx.add_argument("--test-corpus", default=None, help="leave-one-corpus-out (as train-corpora's --test-corpus)")
    fx.add_argument("--json", default=None, help="write the held-out metrics and the expert's record here")

    e = sub.add_parser("export", help="re-export model.onnx of a bundle from its model.pt")
    e.add_argument("--model", required=True)

    ev = sub.add_parser("evaluate", help="evaluate a bundle's PyTorch weights: per corpus, with and without text")
    ev.add_argument("--model", required=True)
    ev.add_argument("--data", default=None, help="studio export folder or manifest")
    ev.add_argument("--corpora", nargs="+", default=None,
                    help="shared corpora to evaluate on (their seeded speaker-independent test split)")
    ev.add_argument("--synthetic", default=None, help="synthetic corpus folder (per-cue accuracy too)")
    ev.add_argument("--split", default="test")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--tess-test-speaker", default="tess_YAF", choices=["tess_YAF", "tess_OAF"])
    ev.add_argument("--test-corpus", default=None, help="leave-one-corpus-out split (the whole corpus is test)")
    ev.add_argument("--json", default=None, help="also write the results here")

    q = sub.add_parser("quantize", help="write model.int8.onnx beside model.onnx, checked by the accuracy guard")
    q.add_argument("--model", required=True, help="bundle folder")
    q.add_argument("--data", default=None, help="guard data: studio export folder (validation split), parity "
                   "fixtures folder, or a folder of WAVs (default: synthesise espeak-ng clips)")
    q.add_argument("--max-items", type=int, default=400)
    q.add_argument("--bits", type=int, default=8, help="weight bits (7: reduce range for CPUs without VNNI)")
    q.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor, not per channel")
    q.add_argument("--include-conv", action="store_true", help="quantise the feature-encoder convolutions too")
    q.add_argument("--threads", type=int, default=2)

    args = p.parse_args(argv)
    if args.cmd == "train":
        from .train import train

        if args.init_from:
            from functools import partial

            from .finetune import finetune

            train = partial(finetune, init_from=args.init_from)
        lr = args.lr if args.lr is not None else (1e-3 if args.config == "tiny" else 1e-4)
        enc_lr = args.encoder_lr if args.encoder_lr is not None else 2e-5
        res = train(args.data, args.out, config=args.config, epochs=args.epochs, batch_size=args.batch_size, lr=lr,
                    encoder_lr=enc_lr, seed=args.seed, threads=args.threads, fusion=args.fusion,
                    lambda_mar=args.lambda_mar, text_dropout=args.text_dropout,
                    num_shallow_layers=args.num_shallow_layers, audio_checkpoint=args.audio_checkpoint,
                    text_checkpoint=args.text_checkpoint, tokenizer=args.tokenizer, vocab_size=args.vocab_size,
                    max_seconds=args.max_seconds, max_train_items=args.max_train_items, max_val_items=args.max_val_items, train_crop_seconds=args.train_crop_seconds, name=args.name, noise=not args.no_noise, save_each_best=args.save_each_best, log=_flush_print,
                    config_overrides=parse_overrides(args.set),
                    labels=[l.strip() for l in args.labels.split(",") if l.strip()] if args.labels else None,
                    device=args.device, soft_labels=args.soft_labels,
                    train_statistics_expert=args.train_statistics_expert)
        if "training_info" in res:  # rank 0 of a torchrun launch, or a single process
            print(json.dumps(res["training_info"]["metrics"], indent=1))
        return 0
    if args.cmd == "train-corpora":
        from .corpora import CORPORA
        from .recipe import train_corpora

        from contextlib import nullcontext

        from .finetune import bundle_model, read_init_bundle

        init = read_init_bundle(args.init_from) if args.init_from else None
        with bundle_model(init, _flush_print) if init else nullcontext():
            res = train_corpora(args.out, corpora=args.corpora or CORPORA, root=args.root, synthetic=args.synthetic,
                                label_map=args.label_map, test_corpus=args.test_corpus,
                                tess_test_speaker=args.tess_test_speaker, seed=args.seed, log=_flush_print,
                                train_seed=args.train_seed, config=args.config, epochs=args.epochs,
                                batch_size=args.batch_size, lr=args.lr,
                                threads=args.threads, fusion=args.fusion, lambda_mar=args.lambda_mar,
                                train_crop_seconds=args.crop_seconds, speed_perturb=args.speed_perturb,
                                balanced=not args.no_balance, noise=not args.no_noise,
                                max_train_items=args.max_train_items, name=args.name,
                                config_overrides={"audio.feature_encoder": args.feature_encoder, "pooling": args.pooling,
                                                  "log_mel_statistics": args.log_mel_statistics,
                                                  "audio.mel_warp": args.mel_warp,
                                                  "audio.mask_mel_bands": args.mask_mel_bands,
                                                  "encoder_dropout": args.encoder_dropout,
                                                  "speaker_normalised_statistics": args.speaker_normalise,
                                                  "speaker_statistics_dropout": args.speaker_statistics_dropout},
                                device=args.device, select_corpora=args.select_corpora,
                                bundle_version=args.bundle_version,
                                tokenizer=init["tokenizer"] if init else None)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"metrics": res["training_info"]["metrics"], "data": res["training_info"]["data"],
                           "recipe": res["training_info"]["recipe"], "history": res["history"]}, f, indent=1)
        return 0
    if args.cmd == "baseline":
        from .corpora import CORPORA
        from .recipe import baseline_corpora

        res = baseline_corpora(args.corpora or CORPORA, label_map=args.label_map, test_corpus=args.test_corpus,
                               seed=args.seed, log=_flush_print, speaker_normalise=args.speaker_normalise)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=1)
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
    if args.cmd == "soup":
        from .soup import soup_bundles

        with open(os.path.join(args.models[0], "model.json"), encoding="utf-8") as fh:
            default_name = json.load(fh).get("name", "wavfusion")
        soup_bundles(args.models, args.out, args.name or default_name, log=_flush_print)
        return 0
    if args.cmd == "calibrate":
        from .calibrate import calibrate_bundle

        calibrate_bundle(args.model, args.out, args.corpora, synthetic=args.synthetic, seed=args.seed,
                         name=args.name, log=_flush_print)
        return 0
    if args.cmd == "fit-statistics-expert":
        from .corpora import CORPORA
        from .statistics_expert import fit_statistics_expert_bundle

        corpora = args.corpora if args.corpora is not None else ([] if args.data else CORPORA)
        fit_statistics_expert_bundle(args.model, args.out, corpora, synthetic=args.synthetic, seed=args.seed,
                                     train_seed=args.train_seed, epochs=args.epochs,
                                     fallback_dropout=args.fallback_dropout, name=args.name,
                                     test_corpus=args.test_corpus, json_out=args.json, data=args.data,
                                     log=_flush_print)
        return 0
    if args.cmd == "export":
        from .export import export_onnx, load_bundle

        model, _tok, meta = load_bundle(args.model)
        export_onnx(model, os.path.join(args.model, meta.get("model", "model.onnx")))
        print(f"re-exported {args.model}/model.onnx")
        return 0
    if args.cmd == "quantize":
        from .quantize import quantize_bundle

        v = quantize_bundle(args.model, data=args.data, weight_bits=args.bits, per_channel=not args.per_tensor,
                            include_conv=args.include_conv, max_items=args.max_items, threads=args.threads,
                            log=_flush_print)
        print(json.dumps(v["int8"]["guard"], indent=1))
        return 0
    if args.cmd == "evaluate":
        from .recipe import evaluate_bundle

        if not (args.data or args.corpora or args.synthetic):
            raise ValueError("evaluate needs --data, --corpora or --synthetic")
        res = evaluate_bundle(args.model, corpora=args.corpora, synthetic=args.synthetic, data=args.data,
                              split=args.split, seed=args.seed, tess_test_speaker=args.tess_test_speaker,
                              test_corpus=args.test_corpus, log=_flush_print)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=1)
        return 0
    return 1


def run(argv=None) -> int:
    """main() with bad input reported as one clear message (exit 2), never a traceback."""
    try:
        return main(argv)
    except (ValueError, FileNotFoundError, PermissionError, IsADirectoryError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run())
