"""A platform backend's moderation step, written against OpenAI's moderation endpoint.

Pointed at `safespace serve` by configuration alone — no code changes:

    MODERATION_BASE_URL=http://127.0.0.1:8080/v1 MODERATION_API_KEY=unused python moderate.py "post text"

Without MODERATION_BASE_URL it calls the hosted endpoint, as it did before.
"""

import os
import sys

from openai import OpenAI


def moderation_client() -> OpenAI:
    """The client the configuration names (the hosted endpoint by default)."""
    return OpenAI(
        base_url=os.environ.get("MODERATION_BASE_URL"),
        api_key=os.environ.get("MODERATION_API_KEY") or os.environ.get("OPENAI_API_KEY"),
    )


def decide(client: OpenAI, post: str) -> str:
    """`publish`, `support` (show crisis resources) or `review`, from one moderation result."""
    result = client.moderations.create(model="omni-moderation-latest", input=post).results[0]
    if result.categories.self_harm:
        return "support"
    return "review" if result.flagged else "publish"


if __name__ == "__main__":
    print(decide(moderation_client(), " ".join(sys.argv[1:])))
