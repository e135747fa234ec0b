#!/usr/bin/env python3
"""Random single-byte mutations and truncations of a converted tiny checkpoint, each given to
`pixelgpt inspect` and `pixelgpt verify`; counts clean errors, successes (verify: or a reported difference), signals and hangs.

    scripts/fuzz_hdf5.py --pixelgpt .build/debug/pixelgpt --count 2000 [--seed 1] [--timeout 60] [--jobs 2]

The goal is 0 signals and 0 hangs. Offsets are drawn mostly from the file's first and last 16 KiB,
where libhdf5's metadata is (a byte in tensor data only changes a value); some anywhere.
Exit status 1 when any run died by a signal, hung, or printed more than one error line.
"""
import argparse, collections, concurrent.futures, os, random, subprocess, sys, tempfile

from fuzz import run_child  # the same child-process runner; this campaign keeps its own outcome categories


def run(command, timeout):
    status, stderr = run_child(command, timeout)
    if status in ("hang", "signal"):
        return status, stderr
    if status == 0:
        return "success", stderr
    if status == 1 and not stderr.strip():
        return "differs", stderr  # verify's verdict on a changed tensor value: stdout, no error
    lines = [l for l in stderr.splitlines() if l.startswith("error:")]
    # Exactly one error line and nothing else that looks like a library's dump.
    return ("clean error" if len(lines) == 1 and len(stderr.strip().splitlines()) == 1 else "messy error"), stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pixelgpt", required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    tool = os.path.abspath(args.pixelgpt)
    rng = random.Random(args.seed)
    counts = collections.Counter()
    bad = []
    with tempfile.TemporaryDirectory(prefix="fuzz-hdf5-") as work:
        checkpoint, converted = work + "/ckpt", work + "/h5"
        subprocess.run([tool, "init", "--preset", "tiny", "--seed", "1", checkpoint], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([tool, "convert", checkpoint, converted, "--format", "hdf5"], check=True, stdout=subprocess.DEVNULL)
        original = open(converted + "/model.h5", "rb").read()
        # Every mutation is drawn first, in order, so the set does not depend on --jobs.
        mutations = []
        for i in range(args.count):
            if rng.random() < 0.1:
                length = rng.randrange(len(original))
                mutations.append((i, f"length {length}", length, None, None))
            else:
                edge = 16384
                r = rng.random()
                offset = rng.randrange(edge) if r < 0.6 else len(original) - 1 - rng.randrange(edge) if r < 0.8 else rng.randrange(len(original))
                value = rng.randrange(256)
                mutations.append((i, f"byte {offset} = {value}", None, offset, value))

        def attempt(mutation):
            i, detail, length, offset, value = mutation
            data = bytearray(original)
            if length is not None:
                del data[length:]
            else:
                data[offset] = value
            mutated = f"{work}/mutated-{i}.h5"
            with open(mutated, "wb") as f:
                f.write(data)
            outcomes = []
            for command in (["inspect", mutated], ["verify", mutated, checkpoint + "/model.safetensors"]):
                outcome, stderr = run([tool] + command, args.timeout)
                outcomes.append((i, detail, command[0], outcome, stderr))
            os.remove(mutated)
            return outcomes

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for n, outcomes in enumerate(pool.map(attempt, mutations), 1):
                for i, detail, command, outcome, stderr in outcomes:
                    counts[(command, outcome)] += 1
                    counts[outcome] += 1
                    if outcome in ("signal", "hang", "messy error"):
                        bad.append(f"{i}: {detail}: {command}: {outcome}: {stderr.strip()[:200]!r}")
                    if args.verbose:
                        print(i, detail, command, outcome, stderr.strip()[:160], flush=True)
                if n % 100 == 0:
                    print(f"{n} inputs: " + ", ".join(f"{k} {v}" for k, v in counts.items() if isinstance(k, str)), file=sys.stderr, flush=True)
    print(f"inputs {args.count} (seed {args.seed}), runs {2 * args.count}")
    for outcome in ("clean error", "success", "differs", "signal", "hang", "messy error"):
        print(f"{outcome}: {counts[outcome]} (inspect {counts[('inspect', outcome)]}, verify {counts[('verify', outcome)]})")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
