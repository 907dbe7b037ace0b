"""Checks exported alerts with third-party validators, all in one process.

Usage: validate_exports.py ocsf|stix FILE.ndjson

Reads one exported object per line and prints one JSON summary on
standard output: {"checked": N, "errors": [...], "warnings": [...]}, each
error or warning a text naming the line.

- ocsf: each line must validate as py-ocsf-models' DetectionFinding. As
  pydantic ignores members a model does not declare, every member of the
  line must also come back from the model; the only members let through
  undeclared are the network endpoints of evidences (OCSF 1.5.0's
  `src_endpoint` and `dst_endpoint`, which py-ocsf-models leaves out),
  whose members and types this script checks itself.
- stix: each line must validate as a STIX 2.1 bundle under the OASIS
  validator (stix2-validator), its "should" checks reported as warnings;
  the ids of the value-keyed cyber-observable objects are computed again
  with Python's uuid module, by STIX's rule.
"""

import json
import sys
import uuid


def ocsf(lines):
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    errors = []
    endpoint_types = {"uid": str, "ip": str, "hostname": str, "port": int}

    def undeclared(sent, back, path):
        if isinstance(sent, dict):
            if not isinstance(back, dict):
                yield path
                return
            for key, value in sent.items():
                here = f"{path}/{key}"
                if key not in back:
                    if path.startswith("/evidences/") and key in ("src_endpoint", "dst_endpoint"):
                        continue
                    yield here
                else:
                    yield from undeclared(value, back[key], here)
        elif isinstance(sent, list):
            if not isinstance(back, list) or len(back) != len(sent):
                yield path
                return
            for i, (a, b) in enumerate(zip(sent, back)):
                yield from undeclared(a, b, f"{path}/{i}")

    for n, line in enumerate(lines, 1):
        finding = json.loads(line)
        try:
            model = DetectionFinding.model_validate(finding)
        except Exception as e:  # pydantic.ValidationError, with every failure
            errors.append(f"line {n}: {e}")
            continue
        back = model.model_dump(mode="json", exclude_unset=True)
        for path in undeclared(finding, back, ""):
            errors.append(f"line {n}: {path}: not a member of py-ocsf-models' DetectionFinding")
        for i, evidence in enumerate(finding.get("evidences", [])):
            for side in ("src_endpoint", "dst_endpoint"):
                endpoint = evidence.get(side)
                if endpoint is None:
                    continue
                for key, value in endpoint.items():
                    want = endpoint_types.get(key)
                    if want is None or type(value) is not want:
                        errors.append(f"line {n}: /evidences/{i}/{side}/{key}: unexpected member or type")
                if "port" in endpoint and not 0 <= endpoint["port"] <= 65535:
                    errors.append(f"line {n}: /evidences/{i}/{side}/port: out of range")
    return errors, []


SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-566c-9dc6-8a5d8a7b9e7c")
VALUE_KEYED = {"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr"}


def stix(lines):
    from stix2validator import ValidationOptions, validate_instance

    options = ValidationOptions(version="2.1")
    errors, warnings = [], []
    for n, line in enumerate(lines, 1):
        bundle = json.loads(line)
        result = validate_instance(bundle, options)
        errors += [f"line {n}: {e}" for e in result.errors]
        warnings += [f"line {n}: {w}" for w in result.warnings]
        for obj in bundle.get("objects", []):
            if obj.get("type") in VALUE_KEYED:
                name = json.dumps({"value": obj["value"]}, separators=(",", ":"), ensure_ascii=False)
                want = f"{obj['type']}--{uuid.uuid5(SCO_NAMESPACE, name)}"
                if obj["id"] != want:
                    errors.append(f"line {n}: {obj['id']}: not the id STIX's rule gives")
    return errors, warnings


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    errors, warnings = {"ocsf": ocsf, "stix": stix}[kind](lines)
    json.dump({"checked": len(lines), "errors": errors, "warnings": warnings}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
