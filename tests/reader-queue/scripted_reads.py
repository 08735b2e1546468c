#!/usr/bin/python3
"""Scripted reads of a phantom trial for the reading-queue end-to-end test.

    scripted_reads.py GROUND_TRUTH.json OUT_DIR

Writes OUT_DIR/<pseudonym>/<reader>/T<k>.json, the read payloads (docs/read-payload.md) of two
readers for every timepoint:
  * "truth": what the phantom's ground truth says (long axis, short axis for nodes; a nodal
    non-target under 10 mm is ABSENT; new lesions as first seen, equivocal or not);
  * "other": the same images read by a second radiologist: 0.5 mm more on every target, and two
    scripted disagreements that the charter's triggers must catch:
      - on a "partial response" subject, an unequivocal new lung lesion at the last timepoint
        (progression in one read only, different disease control at the landmark);
      - on a "progression by growth" subject, targets measured 12 % smaller at the timepoint
        where progression starts (progression dates more than 56 days apart).
Also writes OUT_DIR/expected.json: per subject the course and which reader the adjudicator
should choose (the one matching the ground truth), when the reads disagree.
"""
import json
import os
import sys


def tenth(x):
    return f"{x:.1f}"


def payloads(subject, perturb):
    lesions = subject["lesions"]
    n = len(subject["timepoints"])
    out = []
    seen = set()
    course = subject["course"]
    for k in range(n):
        identified, answers = [], []
        for les in lesions:
            tp = les["timepoints"][k]
            role = les["role"]
            if role == "NEW":
                if les["id"] not in seen:
                    if not tp["present"]:
                        continue
                    seen.add(les["id"])
                    identified.append({"id": les["id"], "role": "NEW", "location": les["location"]})
                state = "ABSENT" if not tp["present"] else ("EQUIVOCAL" if tp.get("equivocal") else "UNEQUIVOCAL")
                answers.append({"id": les["id"], "result": state})
                continue
            if k == 0:
                identified.append({"id": les["id"], "role": role, "location": les["location"]})
            if role == "TARGET":
                size = tp["short_axis_mm"] if les["nodal"] else tp["long_axis_mm"]
                if not tp["present"]:
                    size = 0.0
                elif perturb:
                    size += 0.5
                    if course == "progression by growth" and k == progression_start(subject):
                        size *= 0.88
                answers.append({"id": les["id"], "result": tenth(size)})
            else:
                if not tp["present"] or (les["nodal"] and tp["short_axis_mm"] < 10.0):
                    answers.append({"id": les["id"], "result": "ABSENT"})
                else:
                    answers.append({"id": les["id"], "result": "PRESENT"})
        if perturb and course == "partial response" and k == n - 1:
            identified.append({"id": "NEW91", "role": "NEW", "location": "LUNG"})
            answers.append({"id": "NEW91", "result": "UNEQUIVOCAL"})
        payload = {"assessments": answers}
        if identified:
            payload["lesions"] = identified
        out.append(payload)
    return out


def progression_start(subject):
    for k, tp in enumerate(subject["timepoints"]):
        if tp.get("expected", {}).get("overall_response") == "PD":
            return k
    return -1


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    truth = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    expected = {}
    for s in truth["subjects"]:
        for reader, perturb in (("truth", False), ("other", True)):
            d = os.path.join(out, s["pseudonym"], reader)
            os.makedirs(d, exist_ok=True)
            for k, p in enumerate(payloads(s, perturb)):
                with open(os.path.join(d, f"T{k + 1}.json"), "w") as f:
                    json.dump(p, f)
        discordant = s["course"] == "partial response" or (s["course"] == "progression by growth" and progression_start(s) < len(s["timepoints"]) - 1)
        expected[s["pseudonym"]] = {
            "course": s["course"],
            "timepoints": len(s["timepoints"]),
            "best_overall_response": s["expected"]["best_overall_response"],
            "progression_date": s["expected"]["progression_date"],
            "discordant": discordant,
        }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
