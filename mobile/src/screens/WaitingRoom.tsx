// Registration rushes: when the business is shedding load (`search_busy`, 429) or a waiting
// room holds the family (`waiting_room*`, with Retry-After and maybe a position), wait and try
// again by itself, like the web portal's "Whoa!" page but without losing the screen.
import { useEffect, useState } from "react";

import { ApiError } from "../api/client";
import { useI18n } from "../i18n";
import { Body, Notice, Title } from "../ui";

export function isWaitingRoom(error: unknown): error is ApiError {
  return (
    error instanceof ApiError &&
    (error.code === "search_busy" || error.code === "busy" || error.code.startsWith("waiting_room") || (error.status === 429 && error.retryAfter !== null))
  );
}

export default function WaitingRoom({ error, retry }: { error: ApiError; retry: () => void }) {
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
      {"\n"}
      <Body>{t("waiting.body", { seconds })}</Body>
      {position ? <Body>{`\n${t("waiting.position", { position })}`}</Body> : null}
    </Notice>
  );
}
