#!/usr/bin/env python3
"""Compares reflection.php's dump of our extension (pecl 2.1.5's API) with Debian's php-gearman
(pecl 2.1.0): every class, method and function must match, parameters and return types
included, except where 2.1.0 differs from 2.1.5 (each rule below says how) or ours cannot match
(said too). Prints a summary; exits 1 on any difference no rule explains.

Usage: reflection_compare.py OURS_DUMP DEBIAN_DUMP
"""
import re
import sys

# 2.1.0 declares these return types wider than 2.1.5 does: (ours, theirs).
WIDER_IN_2_1_0 = {
    ("int", "?int"),
    ("bool", "?bool"),
    ("int", "int|false"),
    ("string|false", "string|bool"),
    ("string|false", "string|bool|null"),
    ("string|false", "string|false|null"),
    ("int|false", "int|bool|null"),
    ("int|false", "int|bool"),
    ("array|false", "array|bool"),
    ("GearmanTask|false", "GearmanTask"),
    ("true", "?bool"),
    ("true", "bool"),
}

# Members only one side has, and why.
ONLY_OURS = {
    # pecl 2.1.5's API: the worker's exception-handler set-up.
    "GearmanWorker::enableExceptionHandler": "pecl 2.1.5 API",
    "function gearman_worker_enable_exception_handler": "pecl 2.1.5 API",
    # ext-php-rs needs a constructor to allow `new GearmanJob()` / `new GearmanTask()`.
    "GearmanJob::__construct": "ext-php-rs needs a constructor",
}
ONLY_THEIRS = {}

# 2.1.0's worker addServer()/addServers() have no $setupExceptionHandler (2.1.5 API).
WORKER_ADD_SERVER = re.compile(r"^(GearmanWorker::addServers?|function gearman_worker_add_servers?)$")


def parse(path):
    members, cls = {}, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("class "):
            cls = line.split()[1]
            members[f"class {cls}"] = line
            continue
        match = re.match(r"^(  (\w+)|function (\w+))\((.*)\): ?(.*)$", line)
        if not match:
            continue
        name = f"{cls}::{match.group(2)}" if match.group(2) else f"function {match.group(3)}"
        # Method names are case-insensitive in PHP (2.1.0 registers doLow as "dolow").
        members[name.lower()] = (name, match.group(4), match.group(5))
    return members


def params_equal(ours, theirs):
    # 2.1.0 declares ?string $host / $servers as `string ... = NULL`.
    normalise = lambda p: re.sub(r"\?string \$(host|servers) = NULL", r"string $\1 = NULL", p)
    return normalise(ours) == normalise(theirs)


def main():
    ours, theirs = parse(sys.argv[1]), parse(sys.argv[2])
    unexplained, explained, same = [], 0, 0
    for key in sorted(set(ours) | set(theirs)):
        a, b = ours.get(key), theirs.get(key)
        if a is None or b is None:
            name = (a or b)[0] if isinstance(a or b, tuple) else key
            allowed = ONLY_OURS if b is None else ONLY_THEIRS
            if name in allowed:
                explained += 1
            else:
                unexplained.append(f"only in {'ours' if b is None else 'theirs'}: {a or b}")
            continue
        if isinstance(a, str):  # class line
            if a == b:
                same += 1
            else:
                unexplained.append(f"class differs: {a} | {b}")
            continue
        (name, a_params, a_ret), (_, b_params, b_ret) = a, b
        if (a_params, a_ret) == (b_params, b_ret):
            same += 1
            continue
        params_ok = params_equal(a_params, b_params) or WORKER_ADD_SERVER.match(name)
        return_ok = a_ret == b_ret or (a_ret, b_ret) in WIDER_IN_2_1_0
        if params_ok and return_ok:
            explained += 1
        else:
            unexplained.append(f"{name}: ours ({a_params}): {a_ret} | 2.1.0 ({b_params}): {b_ret}")
    print(f"   {same} identical, {explained} listed 2.1.0-vs-2.1.5 differences, "
          f"{len(unexplained)} unexplained")
    for line in unexplained:
        print("   " + line)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
