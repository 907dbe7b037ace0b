#!/usr/bin/env python3
"""Writes the three benchmark inputs under tools/data/ (compact JSON).

minimal.json  ~250 B   only the required members and an Analyzer
typical.json  ~1.7 KB  an IDS alert: sensor, 2 sources, 2 targets, ports,
                       protocols, categories, e-mail and URI formats
large.json    ~50 KB   the typical alert plus two base64 attachments and a
                       JSON content object

The content is deterministic (fixed seed) so figures are comparable between
runs. Run from the repository root: python3 scripts/make_bench_data.py
"""
import base64
import json
import os
import random

OUT = os.path.join(os.path.dirname(__file__), "..", "tools", "data")

minimal = {
    "Version": "2.D.V08",
    "ID": "c185d909-aceb-42a4-b21e-33766535a371",
    "CreateTime": "2025-02-03T10:00:00.123456Z",
    "Description": "Heartbeat from lab probe",
    "Priority": "Info",
    "Category": ["Other.Uncategorised"],
    "Analyzer": {"Name": "lab-probe", "IP": "192.0.2.10"},
}

typical = {
    "Version": "2.D.V08",
    "ID": "7ec4adc2-7b0e-4846-afa6-f15cc0e6f2cb",
    "OrganisationName": "Contoso Logistics",
    "EntityName": "Rotterdam depot",
    "EntitySector": ["Logistics.Warehousing"],
    "Type": ["Cyber"],
    "Category": ["Access.Forced", "Recon.Network"],
    "Cause": "Malicious",
    "Description": "Repeated SSH password failures against the depot bastion after a port sweep",
    "Status": ["Event"],
    "Priority": "Medium",
    "Confidence": 0.85,
    "CreateTime": "2025-05-19T22:41:08.512Z",
    "StartTime": "2025-05-19T22:35:00Z",
    
    "Ref": ["https://soc.contoso.example/cases/2025-0519-044", "urn:contoso:playbook:ssh-bruteforce"],
    "CorrelID": ["e4503dcc-2cd7-4a34-b3be-5eb5eb3f6093"],
    "Analyzer": {
        "ID": "f18c3b2c-f98d-47fe-9119-1a3cdd8c48dd",
        "IP": "10.20.0.5",
        "Name": "depot-nids",
        "Hostname": "nids.rtm.contoso.example",
        "Model": "Suricata 7.0.8",
        "Category": ["NET.NIDS"],
        "Data": ["Network", "Connection"],
        "Method": ["Signature", "Threshold"],
        "Location": "Rack B4",
    },
    "Sensor": [
        {
            "ID": "0b6e53f1-3c4d-4c1e-9a77-25f6e9c2d101",
            "IP": "10.20.0.6",
            "Name": "tap-core-1",
            "Hostname": "tap1.rtm.contoso.example",
            
            "CaptureZone": "dmz",
            "GeoLocation": "51.9225,4.47917",
            "UnLocation": "NL RTM",
        }
    ],
    "Source": [
        {
            "ID": "29d17420-789b-4158-8940-ebf128611b83",
            "IP": "198.51.100.23",
            "Hostname": "scanner.badhost.example",
            "Category": ["Cyber.Network.Port"],
            "Protocol": ["ipv4", "tcp", "ssh"],
            "Port": [40122, 40188, 40201],
            "Email": "abuse@badhost.example",
        },
        {
            "ID": "3a0c3c7e-42b1-4e0d-8d8e-0b6f4e7a5c11",
            "IP": "2001:db8:85a3::8a2e:370:7334",
            "Protocol": ["ipv6", "tcp", "ssh"],
            "Port": [51514],
        },
    ],
    "Target": [
        {
            "ID": "50b342fd-5e77-4f96-899b-357f2801a3e4",
            "IP": "10.20.1.10",
            "Hostname": "bastion.rtm.contoso.example",
            "Service": "sshd",
            "User": "root",
            "Email": "it-ops@contoso.example",
            "Port": [22],
        },
        {
            "ID": "6f1d2e3c-4b5a-4978-8a6b-5c4d3e2f1a00",
            "IP": "10.20.1.11",
            "Hostname": "bastion2.rtm.contoso.example",
            "Service": "sshd",
            "Port": [22, 2222],
        },
    ],
}

rng = random.Random(20250519)


def blob(n):
    return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(n))).decode()


large = json.loads(json.dumps(typical))
large["ID"] = "8b3f0c52-91d4-4e55-a1c2-7d3e9f6a4b20"
large["Source"][0]["Attachment"] = ["pcap1"]
large["Target"][0]["Attachment"] = ["binary1", "report1"]
large["Attachment"] = [
    {
        "Name": "pcap1",
        "FileName": "capture.pcap",
        "Hash": ["sha256:" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
        "Size": 17000,
        "ContentType": "application/vnd.tcpdump.pcap",
        "ContentEncoding": "base64",
        "Content": blob(17000),
    },
    {
        "Name": "binary1",
        "FileName": "dropper.bin",
        "Size": 17000,
        "ExternalURI": ["https://files.contoso.example/quarantine/dropper.bin"],
        "ContentType": "application/octet-stream",
        "ContentEncoding": "base64",
        "Content": blob(17000),
    },
    {
        "Name": "report1",
        "FileName": "report.json",
        "ContentType": "application/json",
        "ContentEncoding": "json",
        "Content": {
            "verdict": "malicious",
            "score": 97,
            "ratio": 0.625,
            "families": ["locker", "dropper"],
            "processes": [
                {"pid": 4000 + i, "image": f"proc{i}.exe", "args": ["-q", f"--id={i}"], "children": []}
                for i in range(40)
            ],
            "network": {"dns": [f"c{i}.example.net" for i in range(20)], "tcp": [[443, 120], [8080, 3]]},
            "signed": False,
            "parent": None,
        },
    },
]

os.makedirs(OUT, exist_ok=True)
for name, msg in [("minimal", minimal), ("typical", typical), ("large", large)]:
    text = json.dumps(msg, separators=(",", ":"))
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        f.write(text)
    print(f"{name}.json: {len(text)} bytes")
