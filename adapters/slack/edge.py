"""The shape of every Slack request, checked before slack-bolt or our translation reads it.

bolt and `inbound`/`forms` index into the payload freely (`body["authorizations"][0]`,
`(body.get("team") or {}).get("id")`), so a correctly signed body of the wrong shape would crash
there with a 500, which Slack then retries. These models describe only the parts that bolt or we
read, with the types Slack documents; everything else passes unexamined (pydantic ignores extra
keys), so real payloads, including fields Slack adds later, are not rejected.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import parse_qs

from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator

from adapters import edge
from adapters.edge import Rejected

__all__ = ["Rejected", "check_encoding", "check_payload"]

# Slack timestamps are strings of ASCII digits ("1700000000.000100"); the samples Slack's own SDK
# publishes blank them to "". Anything else (`1e20`, other scripts' digits) overflows or misleads
# float().
# Slack's own docs show one event_ts in microseconds ("1515449522000016"), hence up to 16 digits.
_TS = re.compile(r"[0-9]{1,16}(\.[0-9]{1,9})?")
# Seconds since the epoch, up to the year 5138: far beyond any real event, and datetime can take it.
_MAX_EPOCH = 10**11


def _ts(value: str) -> str:
    if value and not _TS.fullmatch(value):
        raise ValueError("expected a Slack timestamp like 1700000000.000100")
    return value


Ts = Annotated[str, AfterValidator(_ts)]
Epoch = Annotated[int, Field(ge=0, le=_MAX_EPOCH)]


class _Id(BaseModel):
    """team, user, channel, enterprise: objects with an id (bolt also takes a bare string)."""

    id: str | None = None
    team_id: str | None = None
    enterprise_id: str | None = None


IdOrName = str | _Id


class _Authorization(BaseModel):
    team_id: str | None = None
    user_id: str | None = None
    enterprise_id: str | None = None
    is_bot: bool | None = None
    is_enterprise_install: bool | None = None


class _Item(BaseModel):
    type: str | None = None
    channel: str | None = None
    ts: Ts | None = None


class _Message(BaseModel):
    """A message nested in an event (message_changed) or a payload (shortcuts, buttons)."""

    user: str | None = None
    text: str | None = None
    ts: Ts | None = None
    thread_ts: Ts | None = None
    bot_id: str | None = None


# The events we translate read `user` and `channel` as strings; other event types (user_change,
# channel_created) carry objects there, which bolt handles and we ignore.
_TRANSLATED = {
    "reaction_added",
    "reaction_removed",
    "message",
    "app_mention",
    "member_joined_channel",
    "app_home_opened",
}


class _Event(BaseModel):
    type: str
    subtype: str | None = None
    user: IdOrName | None = None
    channel: IdOrName | None = None
    channel_type: str | None = None
    team: IdOrName | None = None
    user_team: str | None = None
    item: _Item | None = None
    item_user: str | None = None
    reaction: str | None = None
    text: str | None = None
    ts: Ts | None = None
    thread_ts: Ts | None = None
    event_ts: Ts | None = None
    bot_id: str | None = None
    tab: str | None = None
    message: _Message | None = None
    previous_message: _Message | None = None

    @model_validator(mode="after")
    def _strings_where_we_read_them(self) -> _Event:
        if self.type in _TRANSLATED:
            for name in ("user", "channel", "team"):
                if isinstance(getattr(self, name), _Id):
                    raise ValueError(f"{self.type}.{name} must be a string")
        return self


class _Envelope(BaseModel):
    """Events API bodies (JSON): event_callback, url_verification, app_rate_limited."""

    type: Annotated[str, Field(min_length=1)]
    team_id: str | None = None
    api_app_id: str | None = None
    enterprise_id: str | None = None
    event_id: str | None = None
    event_time: Epoch | None = None
    challenge: str | None = None
    is_ext_shared_channel: bool | None = None
    authorizations: list[_Authorization] | None = None
    # Objects, not bare ids: `inbound.team_id` reads `.id` and `.team_id` from them.
    team: _Id | None = None
    enterprise: IdOrName | None = None
    user: _Id | None = None
    event: _Event | None = None

    @model_validator(mode="after")
    def _callbacks_carry_an_event(self) -> _Envelope:
        if self.type == "event_callback" and self.event is None:
            raise ValueError("an event_callback needs an event object")
        return self


class _Action(BaseModel):
    action_id: str
    block_id: str | None = None
    value: str | None = None
    action_ts: Ts | None = None
    type: str | None = None


class _Option(BaseModel):
    value: str | None = None


class _Element(BaseModel):
    """A view input's state: we read the value of text inputs and selects."""

    type: str | None = None
    value: str | None = None
    selected_option: _Option | None = None


class _State(BaseModel):
    values: dict[str, dict[str, _Element]] | None = None


class _Block(BaseModel):
    block_id: str | None = None


class _Metadata(BaseModel):
    """What `forms.modal` puts in private_metadata: the channel and the core's state."""

    c: str | None = None
    s: str | None = None


def _metadata(value: str) -> str:
    # Not ours (another app's modal, or no JSON object) is fine: translation ignores it. Ours
    # must hold strings where `forms.from_view_submission` reads them.
    try:
        data = json.loads(value) if value else None
    except RecursionError:  # translation parses it too, and only expects ValueError
        raise ValueError(f"private_metadata nests deeper than {edge.MAX_DEPTH} levels") from None
    except ValueError:
        return value
    if isinstance(data, dict):
        edge.check_tree(data, "private_metadata")
        _Metadata.model_validate(data)
    return value


class _View(BaseModel):
    id: str | None = None
    type: str | None = None
    hash: str | None = None
    callback_id: str | None = None
    team_id: str | None = None
    app_installed_team_id: str | None = None
    private_metadata: Annotated[str, AfterValidator(_metadata)] | None = None
    state: _State | None = None
    blocks: list[_Block] | None = None


class _Container(BaseModel):
    channel_id: str | None = None
    message_ts: Ts | None = None


class _ResponseUrl(BaseModel):
    response_url: str | None = None


class _Interaction(BaseModel):
    """Interactivity payloads (the form's `payload` field): buttons, modals, shortcuts."""

    type: Annotated[str, Field(min_length=1)]
    team: _Id | None = None
    enterprise: IdOrName | None = None
    user: _Id | None = None
    channel: _Id | None = None
    container: _Container | None = None
    message: _Message | None = None
    message_ts: Ts | None = None
    trigger_id: str | None = None
    # bolt matches its listeners' patterns against these: a non-string raises TypeError there.
    callback_id: str | None = None
    action_id: str | None = None
    workflow_step: dict[str, Any] | None = None
    response_url: str | None = None
    response_urls: list[_ResponseUrl] | None = None
    is_enterprise_install: bool | None = None
    authorizations: list[_Authorization] | None = None
    actions: list[_Action] | None = None
    view: _View | None = None

    @model_validator(mode="after")
    def _per_type(self) -> _Interaction:
        if self.type == "block_actions" and not self.actions:
            raise ValueError("block_actions needs at least one action")
        if self.type in ("view_submission", "view_closed") and self.view is None:
            raise ValueError(f"{self.type} needs a view")
        # bolt indexes these without looking (`body["view"]["type"]`, `body["workflow_step"]`).
        view = self.view
        if self.type == "view_submission" and view is not None and view.callback_id is not None:
            if view.type is None:
                raise ValueError("a view_submission's view needs a type")
            if view.type == "workflow_step" and self.workflow_step is None:
                raise ValueError("a workflow step's view_submission needs a workflow_step")
        if self.type == "workflow_step_edit" and self.workflow_step is None:
            raise ValueError("workflow_step_edit needs a workflow_step")
        return self


class _Command(BaseModel):
    """A slash command form: parse_qs already made every value a string."""

    command: str
    text: str = ""


def check_encoding(body: bytes, charset: str | None) -> str:
    """The body as text, checked before the signature (which is computed over UTF-8 text)."""
    return edge.decode(body, charset)


def check_payload(text: str, content_type: str) -> dict[str, Any]:
    """The body as bolt should read it; Rejected unless the (signed) body is a Slack request of
    a shape we can read."""
    if content_type == "application/json":
        return _validate(_Envelope, edge.loads(text))
    if content_type != "application/x-www-form-urlencoded":
        raise Rejected(f"unsupported content type {content_type!r}; expected JSON or a form")
    try:
        fields = parse_qs(text, strict_parsing=bool(text), keep_blank_values=True)
    except ValueError:
        raise Rejected("body is not a valid form") from None
    for name, values in fields.items():
        edge.check_text(name, "the form")
        for value in values:
            edge.check_text(value, "the form")
    if "payload" in fields:
        return _validate(_Interaction, edge.loads(fields["payload"][0], "the payload field"))
    form = {name: values[-1] for name, values in fields.items()}  # the last wins, as in bolt
    if "ssl_check" in fields:
        return form
    if "command" not in fields:
        raise Rejected("expected a slash command form or an interactive payload")
    return _validate(_Command, form)


def check_socket_payload(body: Any) -> dict[str, Any]:
    """A Socket Mode envelope's payload, as bolt reads it, held to the same shapes as over
    HTTP: an Events API body, a slash command's fields or an interactive payload."""
    if not isinstance(body, dict):
        raise Rejected("expected a JSON object")
    edge.check_tree(body, "the payload")
    if "command" in body:
        if not all(isinstance(value, str) for value in body.values()):
            raise Rejected("a slash command's fields must be strings")
        return _validate(_Command, body)
    if body.get("type") in ("event_callback", "url_verification", "app_rate_limited"):
        return _validate(_Envelope, body)
    return _validate(_Interaction, body)


def _validate(model: type[BaseModel], data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Rejected("expected a JSON object")
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise Rejected(_describe(exc)) from None
    return data


def _describe(exc: ValidationError) -> str:
    """The first problem, located: `actions.0: Input should be an object`. Input values are left
    out; they are the sender's and may be large."""
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"unexpected shape at {where}: {first['msg']}"
