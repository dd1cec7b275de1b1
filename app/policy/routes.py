"""Policy pages: the current version, the list of versions, each older version."""

from flask import abort, current_app, render_template

from app.i18n import localized_route
from app.pagecache import cached_page
from app.policy import bp
from app.policy.diff import paragraph_diff
from app.policy.services import (
    CONTROLLER_ADDRESS,
    CONTROLLER_NAME,
    all_versions,
    current_version,
    version_by_id,
    version_by_number,
    version_in_force,
)
from app.policy.text import parse_policy, typeset_sections


@localized_route(bp, "/confidentialite", "/en/privacy")
@cached_page
def show(lang: str):
    """The policy in force."""
    version = version_in_force()
    if version is None:
        abort(404)
    return render_policy(version, lang, is_current=True)


@localized_route(bp, "/confidentialite/versions/<int:number>", "/en/privacy/versions/<int:number>")
@cached_page
def version(lang: str, number: int):
    """One published version, marked when it is no longer in force."""
    wanted, latest = version_by_number(number), version_in_force()
    if wanted is None:
        abort(404)
    # a version newer than this process knows was published less than POLICY_RECHECK_SECONDS ago: it is in force
    return render_policy(wanted, lang, is_current=latest is None or wanted.number >= latest.number)


@localized_route(bp, "/confidentialite/versions", "/en/privacy/versions")
@cached_page
def versions(lang: str):
    """Every published version with its date and summary."""
    return render_template("policy/versions.html", versions=all_versions(), current=current_version())


@localized_route(bp, "/confidentialite/versions/<int:number>/changements", "/en/privacy/versions/<int:number>/changes")
@cached_page
def changes(lang: str, number: int):
    """What changed in a version since the one before it, paragraph by paragraph."""
    wanted, previous = version_by_number(number), version_by_number(number - 1)
    if wanted is None or previous is None:
        abort(404)
    new, old = version_by_id(wanted.id), version_by_id(previous.id)
    translated = lang == "en" and bool(new.text_en and old.text_en)
    hunks = paragraph_diff(old.text_en, new.text_en) if translated else paragraph_diff(old.text_fr, new.text_fr)
    return render_template("policy/changes.html", version=new, previous=old, hunks=hunks, translated=translated)


def render_policy(heading, lang: str, is_current: bool):
    """A version in French, or its English translation when there is one (its sections typeset once)."""
    version = version_by_id(heading.id)
    translated = lang == "en" and bool(version.text_en)
    document, blocks = typeset(version, lang, translated)
    return render_template("policy/show.html", version=version, document=document, blocks=blocks,
                           is_current=is_current, translated=translated, controller_name=CONTROLLER_NAME,
                           controller_address=CONTROLLER_ADDRESS)


def typeset(version, lang: str, translated: bool) -> tuple:
    """A version's parsed text and each section's typeset paragraphs, worked out once per version and language."""
    done = current_app.extensions.setdefault("kinv.typeset_policies", {})
    if (version.id, lang) not in done:
        document = parse_policy(version.text_en if translated else version.text_fr)
        done[version.id, lang] = document, typeset_sections(document)
    return done[version.id, lang]
