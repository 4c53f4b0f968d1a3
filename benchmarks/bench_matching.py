"""Matching a cohort (`comentor match`): 1,000 people scored both ways with the real MiniLM embedder, then paired by
networkx's maximum-weight matching, then grouped in circles of 4.

    python -m benchmarks.bench_matching [--people 1000] [--json benchmarks/results/matching.json]

The cohort is generated (seeded): each person offers three and seeks three of 96 skill phrases written for this
benchmark (several phrasings of one skill, so matches are by meaning, not by string), with a department, a
seniority, languages (a few speak no English) and, for 2%, someone to avoid. Wall and CPU seconds are reported for
each step; on a busy machine the wall time grows while the CPU time stays close. A second, smaller cohort (300)
is also paired over the complete graph, to show what the candidate graph (each person's 8 best partners) gives up.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from facilitator.matching import MatchOptions, Person, circle_people, pair_people, score_people

T = TypeVar("T")

SKILLS = [
    ("budgeting", "financial planning", "managing a budget", "forecasting costs"),
    ("SQL", "database queries", "writing SQL reports", "data modelling"),
    ("public speaking", "presenting to executives", "giving talks", "presentation skills"),
    ("negotiation", "negotiating contracts", "salary negotiation", "handling difficult deals"),
    ("Python scripting", "automating spreadsheets", "writing small tools in Python", "process automation"),
    ("hiring", "interviewing candidates", "building a team", "recruiting engineers"),
    ("stakeholder management", "managing up", "influencing without authority", "aligning stakeholders"),
    ("short-form video", "TikTok and Reels", "video editing", "social media content"),
    ("UX research", "user interviews", "usability testing", "design thinking"),
    ("project management", "running sprints", "planning a roadmap", "agile delivery"),
    ("giving feedback", "coaching a team", "difficult conversations", "performance reviews"),
    ("writing", "editing reports", "clear business writing", "storytelling"),
    ("machine learning", "training models", "statistics for data science", "evaluating classifiers"),
    ("cloud infrastructure", "AWS", "Kubernetes operations", "DevOps pipelines"),
    ("sales", "closing deals", "account management", "prospecting clients"),
    ("career planning", "getting promoted", "personal branding", "networking"),
    ("accessibility", "inclusive design", "WCAG audits", "designing for screen readers"),
    ("legal basics", "reading contracts", "data protection law", "GDPR compliance"),
    ("customer support", "handling complaints", "service design", "customer success"),
    ("time management", "prioritising work", "avoiding burnout", "focus and deep work"),
    ("marketing analytics", "campaign measurement", "A/B testing", "attribution models"),
    ("mentoring juniors", "onboarding new hires", "teaching beginners", "pair programming"),
    ("supply chain", "procurement", "vendor management", "inventory planning"),
    ("strategy", "business models", "competitive analysis", "market research"),
]
DEPARTMENTS = ["Finance", "Engineering", "Marketing", "Sales", "Operations", "Legal", "Design", "People"]
SENIORITY = ["junior", "mid", "senior", "lead"]


def cohort(n: int, seed: int = 18) -> list[Person]:
    rng = random.Random(seed)
    phrases = [phrase for skill in SKILLS for phrase in skill]
    people = []
    for i in range(n):
        offers = rng.sample(phrases, 3)
        seeks = rng.sample([p for p in phrases if p not in offers], 3)
        languages = ["English"] + (["Spanish"] if rng.random() < 0.2 else [])
        if rng.random() < 0.03:
            languages = ["Portuguese"]
        people.append(
            Person(
                id=f"p{i:04d}",
                name=f"Person {i:04d}",
                offers=offers,
                seeks=seeks,
                department=rng.choice(DEPARTMENTS),
                seniority=rng.choice(SENIORITY),
                languages=languages,
                avoid=[f"p{rng.randrange(n):04d}"] if rng.random() < 0.02 else [],
            )
        )
    for p in people:
        p.avoid = [a for a in p.avoid if a != p.id]
    return people


def timed(step: Callable[[], T]) -> tuple[T, dict[str, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = step()
    return value, {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def run(embedder: Any, people: int = 1000) -> dict[str, Any]:
    """Time each step of `comentor match` on a generated cohort; the embedder is loaded before the clock starts."""
    embedder.embed_documents(["warm up"])
    group = cohort(people)
    options = MatchOptions()
    scores, score_t = timed(lambda: score_people(group, embedder, options))
    pairs, pair_t = timed(lambda: pair_people(scores, options))
    circles, circle_t = timed(lambda: circle_people(scores, 4))
    placed = sorted(m for c in circles.circles for m in c.members)
    return {
        "people": people,
        "topics": len(scores.topics),
        "score": score_t,
        "pair": pair_t,
        "score_and_pair_s": score_t["wall_s"] + pair_t["wall_s"],
        "circles_of_4": circle_t,
        "pairs": len(pairs.pairs),
        "unmatched": len(pairs.unmatched),
        "mean_pair_score": sum(p.score for p in pairs.pairs) / max(1, len(pairs.pairs)),
        "circles": len(circles.circles),
        "everyone_in_a_circle": placed == sorted(p.id for p in group),
        "mean_circle_score": sum(c.score for c in circles.circles) / max(1, len(circles.circles)),
    }


def against_exact(embedder: Any, people: int = 300) -> dict[str, Any]:
    """The candidate graph (each person's `candidates` best partners) against the complete graph: total score."""
    scores = score_people(cohort(people, seed=19), embedder)
    sparse, sparse_t = timed(lambda: pair_people(scores, MatchOptions()))
    full, full_t = timed(lambda: pair_people(scores, MatchOptions(candidates=people)))
    total = sum(p.score for p in sparse.pairs)
    best = sum(p.score for p in full.pairs)
    return {
        "people": people,
        "candidates": MatchOptions().candidates,
        "total_score": total,
        "complete_graph_total_score": best,
        "share_of_optimum": total / best if best else 1.0,
        "wall_s": sparse_t["wall_s"],
        "complete_graph_wall_s": full_t["wall_s"],
    }


def main() -> None:
    from facilitator.knowledge.embeddings import OnnxMiniLMEmbedder
    from facilitator.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    models = Settings().home_dir / "models"  # the exported ONNX model, if there is one (else exported once, here)
    if not models.is_dir():
        models = Path(tempfile.mkdtemp(prefix="comentor-bench-")) / "models"
    embedder = OnnxMiniLMEmbedder(models)
    result = run(embedder, args.people)
    result["against_exact"] = against_exact(embedder)
    text = json.dumps(result, indent=1)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(
        f"{result['people']} people: scored in {result['score']['wall_s']:.2f} s, paired in "
        f"{result['pair']['wall_s']:.2f} s ({result['pairs']} pairs, {result['unmatched']} unmatched), circles of 4 "
        f"in {result['circles_of_4']['wall_s']:.2f} s; at {result['against_exact']['people']} people the candidate "
        f"graph reaches {100 * result['against_exact']['share_of_optimum']:.2f}% of the complete graph's total score"
    )


if __name__ == "__main__":
    main()
