"""Retention of ad audiences: who is in a platform's audience is kept while they qualify; the record of each file
5 years."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audiences.models import AudienceExport
from app.retention.register import P8_NECESSARY, P8_PROOF, Action, Outcome, Rule
from app.retention.runner import bulk

EXPORT_RECORD_RETENTION = timedelta(days=5 * 365)


def delete_old_export_records(now: datetime) -> Outcome:
    """Records of audience files written more than 5 years ago."""
    return bulk(sa.delete(AudienceExport).where(AudienceExport.created_at < now - EXPORT_RECORD_RETENTION))


# What ad audiences add to the retention register (registered in create_app).
RULES = (
    Rule("audiences_membres", ("audience_members",), _l("Empreintes SHA-256 envoyées aux plateformes publicitaires"),
         None, _l("tant que la personne remplit les conditions, puis jusqu’au fichier de retrait suivant"),
         _l("l’export"), Action.KEEP, (P8_NECESSARY,)),
    Rule("audiences_exports", ("audience_exports",), _l("Traces des fichiers d’audience (qui, quand, combien)"),
         EXPORT_RECORD_RETENTION, _l("5 ans"), _l("l’export"), Action.DELETE, (P8_PROOF,),
         delete_old_export_records),
)
