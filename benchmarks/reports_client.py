"""The reports benchmark's client: never imports Django. Asks ``GET <path>`` ``count``
times (after two warm-up requests) and prints the seconds of each as JSON.

    python benchmarks/reports_client.py http://127.0.0.1:8000 TOKEN /api/v1/reports/teams?... 20
"""

import json
import sys
import time

import httpx


def main() -> None:
    base, token, path, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    headers = {"Authorization": f"Token {token}"}
    times, rows = [], 0
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for n in range(count + 2):
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                print(json.dumps({"error": f"{response.status_code}: {response.text[:300]}"}))
                return
            if n >= 2:
                times.append(elapsed)
                rows = len(response.json()["rows"])
    print(json.dumps({"times": times, "rows": rows}))


if __name__ == "__main__":
    main()
