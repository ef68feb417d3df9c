// Registration rushes. When the business is shedding load (`search_busy`, `busy`, any 429 with
// Retry-After) the screen waits and tries again by itself, like the web portal's "Whoa!" page
// but without losing the screen. When a cart add answers `waiting_room_pass_required`, the class
// is in a registration opening (docs/rush.md): the family joins the opening's queue through the
// API, sees its place and estimated wait (polled at the API's `poll_seconds`: every second near
// the front, less often further back), and once admitted keeps the pass (sent as
// `X-Waiting-Room-Pass` by the API client) and tries the add again. Leaving the screen before
// the turn comes, or "Leave the line", sends DELETE to the queue, so the place goes to the next
// family at once.
import { useCallback, useEffect, useRef, useState } from "react";

import { ApiError, keepWaitingRoomPass, ok } from "../api/client";
import type { components } from "../api/family";
import { dateTime } from "../format";
import { useI18n } from "../i18n";
import { useApi, useSession } from "../session";
import { Body, Button, Notice, Title } from "../ui";

type Queue = components["schemas"]["QueueOutput"];

export function isWaitingRoom(error: unknown): error is ApiError {
  return (
    error instanceof ApiError &&
    (error.code === "search_busy" || error.code === "busy" || error.code.startsWith("waiting_room") || (error.status === 429 && error.retryAfter !== null))
  );
}

/** The opening a `waiting_room_pass_required` answer names, if any. */
export function openingOf(error: ApiError): number | null {
  if (error.code !== "waiting_room_pass_required") return null;
  const id = Number((error.fields?.opening ?? [])[0]);
  return Number.isInteger(id) && id > 0 ? id : null;
}

export default function WaitingRoom({ error, retry }: { error: ApiError; retry: () => void }) {
  const opening = openingOf(error);
  return opening !== null ? <OpeningQueue opening={opening} retry={retry} /> : <Busy error={error} retry={retry} />;
}

function Busy({ error, retry }: { error: ApiError; retry: () => void }) {
  const { t } = useI18n();
  const [seconds, setSeconds] = useState(error.retryAfter ?? 30);
  useEffect(() => {
    setSeconds(error.retryAfter ?? 30);
  }, [error]);
  useEffect(() => {
    if (seconds <= 0) {
      retry();
      return;
    }
    const timer = setTimeout(() => setSeconds((s) => s - 1), 1000);
    return () => clearTimeout(timer);
  }, [seconds, retry]);
  const position = (error.fields?.position ?? [])[0];
  return (
    <Notice>
      <Title level={2}>{t("waiting.title")}</Title>
      <Body>{t("waiting.body", { seconds })}</Body>
      {position ? <Body>{t("waiting.position", { position })}</Body> : null}
    </Notice>
  );
}

const MIN_POLL_SECONDS = 1;
const MAX_POLL_SECONDS = 60;
const RETRY_SECONDS = 2;

/** When to poll again: the server's `poll_seconds`, kept within sane bounds. */
export function pollDelaySeconds(pollSeconds: number | null | undefined): number {
  const asked = Number(pollSeconds);
  if (!Number.isFinite(asked) || asked <= 0) return RETRY_SECONDS;
  return Math.min(Math.max(asked, MIN_POLL_SECONDS), MAX_POLL_SECONDS);
}

function OpeningQueue({ opening, retry }: { opening: number; retry: () => void }) {
  const { t, language } = useI18n();
  const api = useApi();
  const { config } = useSession();
  const zone = config?.tenant.timezone ?? "UTC";
  const [queue, setQueue] = useState<Queue | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [round, setRound] = useState(0); // a new round joins the line again (after expiry)
  const ticket = useRef<string>("");
  const retried = useRef(false);
  const state = useRef<string>("");
  // The caller's retry is a new function each render: keep the latest without restarting the poll.
  const retryRef = useRef(retry);
  retryRef.current = retry;

  const join = useCallback(() => {
    retried.current = false;
    setQueue(null);
    setRound((r) => r + 1);
  }, []);

  const leaveQueue = useCallback(async () => {
    state.current = "left";
    try {
      await api.DELETE("/api/v1/openings/{opening_id}/queue", {
        params: { path: { opening_id: opening } },
        headers: ticket.current ? { "X-Waiting-Room-Ticket": ticket.current } : {},
      });
    } catch {
      // The place lapses with the pass anyway.
    }
  }, [api, opening]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (first: boolean) => {
      try {
        const answer = first
          ? await ok(api.POST("/api/v1/openings/{opening_id}/queue", { params: { path: { opening_id: opening } } }))
          : await ok(
              api.GET("/api/v1/openings/{opening_id}/queue", {
                params: { path: { opening_id: opening } },
                headers: ticket.current ? { "X-Waiting-Room-Ticket": ticket.current } : {},
              }),
            );
        if (stopped) return;
        // The join's ticket, or a new one when the place moves into or out of the front of the
        // line (or, once, with the family's order in the line: its polls' order in the server).
        if (answer.ticket) ticket.current = answer.ticket;
        state.current = answer.state;
        setQueue(answer);
        setFailure(null);
        if (answer.state === "admitted" && answer.pass_token) {
          keepWaitingRoomPass(String(opening), answer.pass_token, answer.pass_expires_at);
          if (!retried.current) {
            retried.current = true;
            retryRef.current();
          }
          return;
        }
        if (answer.state === "expired" || answer.state === "closed" || answer.state === "not_joined") return;
        timer = setTimeout(() => void poll(false), pollDelaySeconds(answer.poll_seconds) * 1000);
      } catch (exc) {
        if (stopped) return;
        setFailure(exc);
        timer = setTimeout(() => void poll(first), RETRY_SECONDS * 1000);
      }
    };
    void poll(true);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [api, opening, round]);

  // The family left the screen before its turn: its place goes to the next family.
  const leaveRef = useRef(leaveQueue);
  leaveRef.current = leaveQueue;
  useEffect(
    () => () => {
      if (["before_opening", "waiting", "paused"].includes(state.current)) void leaveRef.current();
    },
    [],
  );


  const lines: string[] = [];
  if (queue?.state === "before_opening" && queue.seconds_to_open !== null) lines.push(t("queue.before", { seconds: Math.max(0, Math.round(queue.seconds_to_open)) }));
  if (queue?.state === "paused") lines.push(t("queue.paused"));
  // Every class full: the line still moves if a seat opens up, but the family should know now.
  if ((queue?.state === "waiting" || queue?.state === "paused") && queue.all_full) lines.push(t("queue.allFull"));
  if ((queue?.state === "waiting" || queue?.state === "paused") && queue.position !== null) lines.push(t("queue.position", { position: queue.position }));
  if (queue?.state === "waiting" && queue.estimated_wait_seconds !== null) lines.push(t("queue.wait", { minutes: Math.max(1, Math.ceil(queue.estimated_wait_seconds / 60)) }));
  if (queue?.state === "admitted") lines.push(t("queue.admitted", { time: queue.pass_expires_at ? dateTime(queue.pass_expires_at, zone, language) : "" }));
  if (queue?.state === "expired") lines.push(t("queue.expired"));
  if (queue?.state === "closed") lines.push(t("queue.closed"));
  if (queue?.state === "not_joined") lines.push(t("queue.left"));
  return (
    <Notice>
      <Title level={2}>{t("queue.title")}</Title>
      {lines.map((line) => (
        <Body key={line}>{line}</Body>
      ))}
      {failure instanceof ApiError ? <Body muted>{failure.message}</Body> : null}
      {queue?.state === "expired" || queue?.state === "not_joined" ? <Button kind="secondary" title={t("queue.rejoin")} onPress={join} /> : null}
      {queue && ["before_opening", "waiting", "paused"].includes(queue.state) ? (
        <Button
          kind="secondary"
          title={t("queue.leave")}
          onPress={() => {
            void leaveQueue().then(() => setQueue({ ...queue, state: "not_joined" }));
          }}
        />
      ) : null}
    </Notice>
  );
}
