#!/usr/bin/python3
"""Fetches a godistlock-node --metrics URL for process tests (ops_test.cpp).

  metrics_scrape.py metrics URL   GET URL, parse it with prometheus_client's
                                  text parser; print "family NAME TYPE" per
                                  family and "sample NAME{k=v,...} VALUE" per
                                  sample (labels sorted). Exit 1 on a parse error.
  metrics_scrape.py status URL    GET URL; print the HTTP status code.
"""
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def main():
    mode, url = sys.argv[1], sys.argv[2]
    status, body = get(url)
    if mode == "status":
        print(status)
        return 0
    if status != 200:
        print(f"HTTP {status}", file=sys.stderr)
        return 1
    for family in text_string_to_metric_families(body):
        print(f"family {family.name} {family.type}")
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            print(f"sample {sample.name}{{{labels}}} {sample.value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
