"""The dialogue policy: answers to open questions, context, and running one skill per turn.

A skill that lacks something answers with Ask / Choose / Confirm; the policy keeps that question in the
conversation state, reads the next message as its answer (a number, a name, yes/no, cancel) and runs
the skill again. A message that is clearly a new request drops the open question.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from assistant import clauses, corrections, gate, records, support_desk
from assistant.audit import model_for, undo_clashes, undo_last
from assistant.conversation import Pending
from assistant.meanwhile import Seen, audit_mark, changed_fields, changes_since, label, seen_of, told
from assistant.messages import Button, Reply, combined
from assistant.references import RECORDS, SHOWN_TARGETS, pick, shown_reference
from assistant.replies import say
from assistant.skills import READS, SKILLS
from assistant.skills.support import offer_a_person
from assistant.turn import Ask, Choose, Confirm, Outcome, Turn
from intents.parse import Parse, ambiguous
from intents.parser import Parser
from storage.models import AuditEntry

FREE_TEXT = {"task", "subject", "notes", "message"}
VERBATIM = {"message"}  # words sent on to a customer as they were typed, their "?" too
NEW_REQUEST = 0.85  # a parse this sure of a new staff request is not an answer to the open question
ASK_TRIES = 3  # answers not understood before the question is dropped
SENTENCE_WORDS, SENTENCE_SURE = 4, 0.6  # nor is a sentence this long that reads this surely as a request
CREATES_NAMED = ("create_account", "create_contact")  # a new name is what these are for
FOLLOW_UPS = {  # the changes that may follow a change of the same record without naming it again
    "update_deal": ("stage", "amount", "close_date", "owner"),
    "update_contact": ("email", "phone", "title"),
}
SMALL_TALK = {"help", "greet", "affirm", "deny", "cancel", "out_of_scope"}
UNDO_OVER = "_over"  # set once the user said yes to an undo that puts back a field changed since
# the writes that change a record that exists: a question about one remembers the record's version
UPDATES = {"update_deal", "update_contact", "complete_task", "snooze_task", "reply_ticket", "close_ticket",
           "assign_ticket"}  # fmt: skip


class Policy:
    def __init__(self, parser: Parser) -> None:
        self.parser = parser

    def respond(self, turn: Turn, text: str) -> Reply:
        if turn.customer is not None:  # the support bot, with a person behind it
            return support_desk.customer_turn(turn, text, lambda: self._respond(turn, text, ""))
        before, last_write = turn.audit.changes, turn.state.last_write
        reply = self._respond(turn, text, last_write)
        wrote = turn.audit.changes > before and gate.is_write(reply.intent or "")
        turn.state.last_write = (reply.intent or "") if wrote else ""
        return reply

    def _respond(self, turn: Turn, text: str, last_write: str) -> Reply:
        parse = self.parser.parse(text, turn.now, turn.role)
        # "push it to the 20th" right after a deal changed moves that deal, unless a reminder came since
        snooze_of_it = parse.intent == "snooze_task" and turn.context.task_id is None
        if (parse.intent == "out_of_scope" or snooze_of_it) and turn.state.pending is None and last_write:
            follow_up = self._goes_on(turn, text, last_write, parse)
            if follow_up is not None:
                return follow_up
        pending = turn.state.pending
        if pending is not None:
            own_group = turn.audit.group
            if pending.group:  # what this answer changes joins the changes made before the question
                turn.audit.group = pending.group
            answered = self._answer(turn, pending, parse, text)
            if answered is not None:
                return self._go_on(turn, answered, pending.rest)
            turn.audit.group = own_group  # not an answer: a new request, undone on its own
            turn.state.pending = None
        if turn.user is not None and gate.is_write(parse.intent):
            parts = clauses.requests(self.parser, text, turn.now, turn.role)
            if len(parts) > 1:
                return self._several(turn, parts)
        return self._request(turn, parse)

    def _goes_on(self, turn: Turn, text: str, intent: str, parse: Parse) -> Reply | None:
        """Right after a change, words that only make sense as more of it ("actually make it 42k",
        "close date next friday") change the same record again."""
        changes = FOLLOW_UPS.get(intent)
        if changes is None:
            return None
        read = self.parser.parse_as(text, intent, turn.now)
        said = {k: v for k, v in read.items() if k in changes and v is not None}
        if not said or any(read.get(k) for k in RECORDS):
            return None
        return self.run(turn, intent, said, parse)

    def _several(self, turn: Turn, parts: list[str]) -> Reply:
        """Each request of a message in turn, in this one transaction (one undo reverts them all);
        a question stops the run, and the requests after it wait with the question."""
        replies: list[Reply] = []
        for i, part in enumerate(parts):
            replies.append(self._request(turn, self.parser.parse(part, turn.now, turn.role)))
            if turn.state.pending is not None:
                turn.state.pending.rest = parts[i + 1 :]
                if turn.audit.changes:
                    turn.state.pending.group = turn.audit.group  # so one undo still reverts them all
                break
        return combined(replies)

    def _go_on(self, turn: Turn, answered: Reply, rest: list[str]) -> Reply:
        """After an answer: the requests that waited behind the question, unless another one is asked."""
        if not rest:
            return answered
        if turn.state.pending is not None:
            turn.state.pending.rest = rest
            turn.state.pending.group = turn.audit.group
            return answered
        return combined([answered, self._several(turn, rest)])

    def _request(self, turn: Turn, parse: Parse) -> Reply:
        """A new request. A write the parser is unsure of, or whose record's name was a guess, is asked
        about before anything changes (assistant/gate.py); so is one whose name matches nothing."""
        if turn.user is not None and gate.is_write(parse.intent):
            parse, unplaced = shown_reference(turn, parse)
            if unplaced:  # "the first one", with no list of those just shown: which one is a guess
                slot = SHOWN_TARGETS[parse.intent][0]
                return self._render(
                    turn, parse.intent, parse.slots, Ask(slot, say("ask_which_shown", what=slot))
                )
            if (near := self._near(turn, parse)) is not None:
                return near
            if gate.asks_first(parse) and not ambiguous(parse.slots) and not turn.spoken:
                # (a spoken write is read back in full before it is made: see _skill)
                confirm = Confirm(gate.confirmation(parse, turn.now.date()), gate.SURE)
                return self._render(turn, parse.intent, parse.slots, confirm)
        return self.run(turn, parse.intent, parse.slots, parse)

    def _near(self, turn: Turn, parse: Parse) -> Reply | None:
        """A name that matches no record is never guessed and never replaced by the context: 'sent email
        to vandaley' or 'log a call with vandaley' -> "I don't know "vandaley". Did you mean Vandelay
        Industries?", with a button per candidate (and one to create the account, where one would be)."""
        new_account = parse.slots.get("account")
        if isinstance(new_account, str) and parse.intent not in CREATES_NAMED:
            if records.account_by_name(turn, new_account) is not None:
                return None
            said = new_account
            names = sorted({n for near in self.parser.near_names(said, turn.now) for n in near.names})
            creates = True
        elif not any(parse.slots.get(s) for s in RECORDS):
            near = self.parser.near_names(parse.text, turn.now)
            said, names, creates = (near[0].said, near[0].names, False) if near else ("", [], False)
        else:
            return None
        if not names:
            return None
        asked = {**parse.slots, "_text": parse.text, "_said": said}
        turn.state.pending = Pending(
            "mean",
            parse.intent,
            asked,
            options=names,
            flag="create" if creates else "",
            seen=Seen(audit_mark(turn.session)).to_json(),  # the record is not known until the answer
        )
        buttons = [Button(n, str(i), "choose") for i, n in enumerate(names, 1)]
        if creates:
            buttons.append(Button(say("near_create", name=said), "create", "confirm"))
        return Reply(
            say(
                "near_name_or_create" if creates else "near_name",
                said=said,
                names=say("choose_or").join(names),
            ),
            buttons=[*buttons, Button("No", "no", "cancel")],
            intent=parse.intent,
        )

    def _meant(self, turn: Turn, pending: Pending, parse: Parse, text: str) -> Reply | None:
        """The answer to "did you mean ...?": the request is read again with the name put right, or, on
        "create", made with the new account as it was said."""
        slots = {k: v for k, v in pending.slots.items() if k not in ("_text", "_said")}
        if pending.flag == "create" and "create" in text.lower().split():
            turn.state.pending = None
            return self.run(turn, pending.intent, {**slots, "_create": True, gate.SURE: True}, parse)
        choice = pick(text, pending.options)
        if choice is None and parse.intent == "affirm" and len(pending.options) == 1:
            choice = pending.options[0]
        if choice is None:
            if self._new_request(parse):
                return None
            return Reply(say("choice_not_understood", n=len(pending.options)), intent=parse.intent)
        turn.state.pending = None
        turn.answered = pending
        original, said = str(pending.slots["_text"]), str(pending.slots["_said"])
        fixed = self.parser.parse(original.replace(said, choice, 1), turn.now, turn.role)
        return self.run(turn, fixed.intent, {**fixed.slots, gate.SURE: True}, fixed)

    # open questions ---------------------------------------------------------------------------------

    def _answer(self, turn: Turn, pending: Pending, parse: Parse, text: str) -> Reply | None:
        intent, slots = pending.intent, dict(pending.slots)
        if parse.intent == "cancel" or (parse.intent == "deny" and pending.kind != "confirm"):
            turn.state.pending = None
            return Reply(say("cancelled"), intent=parse.intent)
        if pending.kind == "confirm":
            if parse.intent == "affirm":
                turn.state.pending = None
                turn.answered = pending
                return self.run(turn, intent, {**slots, pending.flag: True}, parse)
            corrected = self._corrected(turn, pending, parse, text)
            if corrected is not None:
                return corrected
            if parse.intent == "deny":
                turn.state.pending = None
                return Reply(say("denied"), intent=parse.intent)
            return None
        if pending.kind == "mean":
            return self._meant(turn, pending, parse, text)
        if pending.kind == "choose":
            choice = pick(text, pending.options, pending.details)
            if choice is not None:
                turn.state.pending = None
                return self.run(turn, intent, {**slots, pending.slot: choice}, parse)
            named = {k: v for k, v in parse.slots.items() if k in RECORDS and v}
            if named and not ambiguous(named) and parse.intent in (intent, "account_summary", "out_of_scope"):
                # "the summit seats deal": the answer names the record itself; the request goes on
                turn.state.pending = None
                kept = {k: v for k, v in slots.items() if k not in RECORDS}
                return self.run(turn, intent, {**kept, **named}, parse)
            if self._new_request(parse):
                return None
            return Reply(say("choice_not_understood", n=len(pending.options)), intent=parse.intent)
        slot = pending.slot
        if parse.intent == intent and (slot not in VERBATIM or parse.slots.get(slot)):
            merged = {**slots, **parse.slots}
        else:
            if slot in FREE_TEXT:
                answer = {slot: text.strip() if slot in VERBATIM else text.strip(" .!?")}
            else:
                # "120k", "amount 120k", "make it 120k": whatever the answer says, read as the request
                read = self.parser.parse_as(text, intent, turn.now)
                answer = {k: read[k] for k in (slot, *pending.accepts) if read.get(k) is not None}
            if not answer and slot == "account" and not self._new_request(parse):
                answer = {slot: parse.slots.get("account") or text.strip(" .!?")}
            if not answer:
                return None if self._new_request(parse) else self._ask_again(turn, pending, parse)
            merged = {**slots, **answer}
        turn.state.pending = None
        return self.run(turn, intent, merged, parse)

    def _corrected(self, turn: Turn, pending: Pending, parse: Parse, text: str) -> Reply | None:
        """ "No, Thursday" to "Log a call ...?": the request with what was said put right, asked again
        (read back again when spoken); None when the answer changes nothing of the request, or is a
        request of its own."""
        rest, led = corrections.without_lead(text)
        if not rest or (not led and parse.intent != pending.intent and self._new_request(parse)):
            return None
        read = self.parser.parse_as(rest, pending.intent, turn.now)
        said = corrections.changes(
            read, pending.slots, lambda cue: self.parser.parse_as(f"{cue} {rest}", pending.intent, turn.now)
        )
        if not said:
            return None
        slots = {k: v for k, v in pending.slots.items() if k != pending.flag}
        slots.update(said)
        turn.state.pending = None
        asked = Parse(text, pending.intent, 1.0, slots)
        if pending.flag == gate.SURE:
            confirm = Confirm(gate.confirmation(asked, turn.now.date()), gate.SURE)
            return self._render(turn, pending.intent, slots, confirm)
        return self.run(turn, pending.intent, slots, asked)  # the skill reads back or asks again

    @staticmethod
    def _ask_again(turn: Turn, pending: Pending, parse: Parse) -> Reply:
        """The same question with the way out of it; after ASK_TRIES misses the question is dropped."""
        pending.tries += 1
        if pending.tries >= ASK_TRIES:
            turn.state.pending = None
            return Reply(say("ask_dropped"), intent=parse.intent)
        return Reply(
            "\n".join((pending.question, say("ask_way_out"))),
            buttons=[Button("Cancel", "cancel", "cancel")],
            intent=parse.intent,
        )

    @staticmethod
    def _new_request(parse: Parse) -> bool:
        """A message that is a request of its own, not an answer: sure of itself with something named,
        or a sentence of several words that reads as a staff request."""
        if parse.intent in SMALL_TALK:
            return False
        words = len(parse.text.split())
        return (parse.confidence >= NEW_REQUEST and bool(parse.slots)) or (
            words >= SENTENCE_WORDS and parse.confidence >= SENTENCE_SURE
        )

    # running a skill --------------------------------------------------------------------------------

    def run(self, turn: Turn, intent: str, slots: dict[str, Any], parse: Parse) -> Reply:
        reply = self._conversation(turn, intent, slots, parse)
        if reply is None:
            outcome = self._skill(turn, intent, slots)
            reply = self._render(turn, intent, slots, outcome)
        reply.intent = parse.intent if reply.intent is None else reply.intent
        reply.slots = reply.slots or parse.slots
        return reply

    def _skill(self, turn: Turn, intent: str, slots: dict[str, Any]) -> Outcome:
        skill = SKILLS.get(intent)
        if skill is None:
            return Reply(say("not_understood"))
        savepoint = None if intent in READS else turn.session.begin_nested()
        context, changes, entries = turn.context.copy(), turn.audit.changes, len(turn.audit.entries)
        try:
            outcome = skill(turn, slots)
            done = isinstance(outcome, Reply)
        except records.Missing as missing:
            outcome = missing.outcome if not isinstance(missing.outcome, str) else Reply(missing.outcome)
            done = False
        if savepoint is None and turn.audit.changes > changes:  # a bug: the whole turn rolls back
            raise RuntimeError(f"{intent} is listed as a skill that only reads, and it wrote")
        wrote = done and turn.audit.changes > changes
        answered, turn.answered = turn.answered, None  # only the run the yes was given to is checked
        if wrote and isinstance(outcome, Reply) and answered is not None:
            outcome, done = self._meanwhile(turn, answered, outcome, turn.audit.entries[entries:], slots)
        if done and wrote and isinstance(outcome, Reply) and self._reads_back(turn, intent, slots):
            # heard, not typed: the write was made only to say exactly what it would save; undone now
            turn.watched = seen_of(turn.session, turn.audit.entries[entries:])
            outcome, done = gate.read_back(outcome), False
        if done:
            if savepoint is not None:
                savepoint.commit()
        else:
            # a question or a refusal: nothing of this attempt is kept, not even what it was about
            if savepoint is not None:
                savepoint.rollback()
            turn.state.context, turn.audit.changes = context, changes
            del turn.audit.entries[entries:]
        return outcome

    @staticmethod
    def _meanwhile(
        turn: Turn, answered: Pending, done: Reply, written: list[AuditEntry], slots: dict[str, Any]
    ) -> tuple[Outcome, bool]:
        """The yes to a question, once the write is made (not yet kept): when someone changed the record
        since the question, a change to a field this write sets is not overwritten (nothing is written,
        the question is asked again with the news); a change to other fields is kept and told."""
        seen = Seen.from_json(answered.seen)
        if seen is None:
            return done, True
        clashes, news = [], []
        for entry in written:
            if entry.action != "update" or entry.entity_id is None:
                continue
            key = f"{entry.entity}:{entry.entity_id}"
            version = seen.versions.get(key)
            if version is not None and (entry.before or {}).get("version") == version:
                continue  # the record is as it was when asked
            others = changes_since(
                turn.session,
                entry.entity,
                entry.entity_id,
                version=version,
                since=seen.since,
                skip_group=turn.audit.group,
                tz=turn.tz,
            )
            sets = changed_fields(entry.before, entry.after)
            if others is None:  # the version moved with no audited change behind it (an import)
                record = turn.session.get(model_for(entry.entity), entry.entity_id)
                clashes.append(say("meanwhile_unknown", record=label(record) if record else entry.entity))
            elif any(other.fields & sets for other in others):
                clashes.append(told(others))
            elif others:
                news.append(told(others))
        if clashes:
            said = {k: v for k, v in slots.items() if not k.startswith("_")}  # "did you mean" asked no yes
            question = answered.question or gate.confirmation(
                Parse("", answered.intent, 1.0, said), turn.now.date()
            )
            text = say("meanwhile_ask", changes="; ".join(clashes), question=question)
            return Confirm(text, answered.flag or gate.SURE), False
        if news:
            also = say("meanwhile_also", changes="; ".join(news))
            done.text, done.plain, done.speech = (
                f"{done.text}\n{also}",
                f"{done.plain}\n{also}",
                f"{done.speech} {also}",
            )
        return done, True

    @staticmethod
    def _watch(turn: Turn, intent: str, slots: dict[str, Any], flag: str) -> Seen:
        """What a question about a write sees of the records the write would change: the read-back's
        own (it just made the write and undid it), else the write made once and undone at once."""
        if turn.watched is not None:
            watched, turn.watched = turn.watched, None
            return watched
        skill = SKILLS.get(intent)
        if skill is None or intent not in UPDATES:
            return Seen(audit_mark(turn.session))
        savepoint = turn.session.begin_nested()
        context, changes, entries = turn.context.copy(), turn.audit.changes, len(turn.audit.entries)
        with contextlib.suppress(records.Missing):  # a question: no record to watch
            skill(turn, {**slots, flag: True})
        seen = seen_of(turn.session, turn.audit.entries[entries:])
        savepoint.rollback()
        turn.state.context, turn.audit.changes = context, changes
        del turn.audit.entries[entries:]
        return seen

    @staticmethod
    def _reads_back(turn: Turn, intent: str, slots: dict[str, Any]) -> bool:
        return turn.spoken and gate.is_write(intent) and not slots.get(gate.READ_BACK)

    def _render(self, turn: Turn, intent: str, slots: dict[str, Any], outcome: Outcome) -> Reply:
        if isinstance(outcome, Reply):
            outcome.intent = intent
            return outcome
        if isinstance(outcome, Ask):
            accepts = list(outcome.accepts)
            turn.state.pending = Pending("ask", intent, slots, outcome.slot, outcome.question, accepts)
            return Reply(outcome.question, intent=intent)
        if isinstance(outcome, Choose):
            turn.state.pending = Pending(
                "choose", intent, slots, slot=outcome.slot, options=outcome.options, details=outcome.details
            )
            question = say("choose", what=outcome.what)
            shown = outcome.shown()
            lines = [question] + [say("choose_option", number=i, option=o) for i, o in enumerate(shown, 1)]
            buttons = [Button(o, str(i), "choose") for i, o in enumerate(shown, 1)]
            return Reply(
                "\n".join(lines),
                speech=say(
                    "choose_speech", question=question, options=say("choose_or").join(outcome.options)
                ),
                buttons=buttons,
                intent=intent,
            )
        seen = self._watch(turn, intent, slots, outcome.flag)
        turn.state.pending = Pending(
            "confirm", intent, slots, question=outcome.question, flag=outcome.flag, seen=seen.to_json()
        )
        buttons = [Button("Yes", "yes", "confirm"), Button("No", "no", "cancel")]
        return Reply(outcome.question, speech=outcome.speech, buttons=buttons, intent=intent)

    # small talk and undo ----------------------------------------------------------------------------

    def _conversation(self, turn: Turn, intent: str, slots: dict[str, Any], parse: Parse) -> Reply | None:
        customer = turn.user is None
        if intent == "help":
            return Reply(say("help_customer" if customer else "help_staff"))
        if intent == "greet":
            words = set(re.findall(r"[a-z]+", parse.text.lower()))
            if words & {"thanks", "thank", "thx", "ty", "cheers", "appreciate"}:
                return Reply(say("greet_thanks"))
            if words & {"bye", "goodbye", "later", "cya", "night"}:
                return Reply(say("greet_bye"))
            first = turn.user.name.split()[0] if turn.user else "there"
            return Reply(say("greet_hello", name=first))
        if intent in ("affirm", "deny"):
            return Reply(say("nothing_pending"))
        if intent == "cancel":
            return Reply(say("cancelled"))
        if intent == "out_of_scope" and customer:
            return Reply(say("not_understood_customer"), buttons=offer_a_person())
        if intent == "out_of_scope":
            return Reply(say("not_understood"))
        if intent == "undo" and turn.user is not None:
            return self._undo(turn, slots)
        return None

    def _undo(self, turn: Turn, slots: dict[str, Any]) -> Reply:
        """The last change reverted; when spoken, said first ("Undo the deal Hooli deal?")."""
        assert turn.user is not None
        over = bool(slots.get(UNDO_OVER))
        if not over:
            reverted, clashes = undo_clashes(turn.session, turn.user.id, turn.tz)
            if clashes:  # someone changed it since: their change is not put back without a yes
                confirm = Confirm(say("undo_clash", changes=told(clashes), what=reverted), UNDO_OVER)
                return self._render(turn, "undo", slots, confirm)
        savepoint = turn.session.begin_nested()
        what = undo_last(turn.session, turn.user.id, turn.channel, over=over)
        if what and not over and self._reads_back(turn, "undo", slots):
            savepoint.rollback()
            confirm = Confirm(say("read_back_undo", what=what), gate.READ_BACK)
            return self._render(turn, "undo", slots, confirm)
        savepoint.commit()
        return Reply(say("undone", what=what) if what else say("nothing_to_undo"))
