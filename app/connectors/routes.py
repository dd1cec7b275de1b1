"""The answers of connected systems: one signed webhook per system."""

from flask import jsonify, request

from app.connectors import bp, services
from app.extensions import csrf


@bp.post("/webhooks/connectors/<name>")
@csrf.exempt
def answer(name: str):
    """A system's answer to a request we sent it: signature and freshness checked, replays change nothing."""
    request.max_content_length = services.ANSWER_MAX_BYTES  # an export may be 2 MB; forms stay under 64 KB
    try:
        taken = services.take_answer(name, request.get_data(), dict(request.headers))
    except services.AnswerRefused as refused:
        return jsonify(ok=False, error=str(refused)), refused.status
    return jsonify(ok=True, replay=not taken)
