"""Core messages -> terminal text."""

from __future__ import annotations

from bot.messages import Message, plain_text


def render(message: Message) -> str:
    lines = [plain_text(message.text)]
    card = message.card
    if card is not None:
        lines = [f"┌ {card.title}"]
        for section in card.sections:
            if section.text:
                lines += [f"│ {line}" for line in plain_text(section.text).rstrip().splitlines()]
            for field in section.fields:
                lines.append(f"│ {field.label}: {plain_text(field.value)}")
        if card.buttons:
            lines.append("│ " + "  ".join(f"[{b.label}]" for b in card.buttons))
        if card.context:
            lines.append(f"└ {plain_text(card.context)}")
    return "\n".join(lines)
