// The app's few building blocks, drawn from the business's theme. Roles and labels are set so
// screen readers (and the web build's tests) find every control by its name.
import { Children, isValidElement, type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import {
  ActivityIndicator,
  Pressable,
  RefreshControl,
  ScrollView,
  StyleSheet,
  Switch,
  Text,
  TextInput,
  type TextInputProps,
  View,
} from "react-native";
import { useSafeAreaInsets } from "react-native-safe-area-context";

import { ApiError } from "./api/client";
import { useI18n } from "./i18n";
import { useSession } from "./session";
import { useTheme } from "./theme";

export function Screen({ children, onRefresh, refreshing = false }: { children: ReactNode; onRefresh?: () => void; refreshing?: boolean }) {
  const theme = useTheme();
  const insets = useSafeAreaInsets();
  return (
    <ScrollView
      style={{ flex: 1, backgroundColor: theme.colors.background }}
      contentContainerStyle={{ padding: theme.spacing * 2, paddingBottom: insets.bottom + theme.spacing * 4, gap: theme.spacing * 1.5, width: "100%", maxWidth: 720, alignSelf: "center" }}
      keyboardShouldPersistTaps="handled"
      refreshControl={onRefresh ? <RefreshControl refreshing={refreshing} onRefresh={onRefresh} /> : undefined}
    >
      {children}
    </ScrollView>
  );
}

export function Title({ children, level = 1 }: { children: ReactNode; level?: 1 | 2 | 3 }) {
  const theme = useTheme();
  const size = level === 1 ? 26 : level === 2 ? 20 : 17;
  return (
    <Text role="heading" aria-level={level} style={{ fontSize: size, fontWeight: "700", color: theme.colors.text, fontFamily: theme.fontFamily }}>
      {children}
    </Text>
  );
}

export function Body({ children, muted = false, testID }: { children: ReactNode; muted?: boolean; testID?: string }) {
  const theme = useTheme();
  return (
    <Text testID={testID} style={{ fontSize: 16, lineHeight: 22, color: theme.colors.text, opacity: muted ? 0.8 : 1, fontFamily: theme.fontFamily }}>
      {children}
    </Text>
  );
}

export function Button({
  title,
  onPress,
  kind = "primary",
  disabled = false,
  busy = false,
}: {
  title: string;
  onPress: () => void;
  kind?: "primary" | "secondary" | "danger" | "link";
  disabled?: boolean;
  busy?: boolean;
}) {
  const theme = useTheme();
  const filled = kind === "primary";
  const color = kind === "danger" ? theme.colors.error : theme.colors.primary;
  return (
    <Pressable
      role="button"
      aria-label={title}
      aria-disabled={disabled || busy}
      disabled={disabled || busy}
      onPress={onPress}
      style={({ pressed }) => [
        styles.button,
        {
          borderRadius: theme.radius,
          backgroundColor: filled ? theme.colors.primary : "transparent",
          borderColor: kind === "link" ? "transparent" : color,
          opacity: disabled ? 0.5 : pressed ? 0.8 : 1,
          paddingVertical: kind === "link" ? 6 : 12,
        },
      ]}
    >
      {busy ? (
        <ActivityIndicator color={filled ? theme.colors.onPrimary : color} />
      ) : (
        <Text style={{ color: filled ? theme.colors.onPrimary : color, fontSize: 16, fontWeight: "600", textDecorationLine: kind === "link" ? "underline" : "none" }}>
          {title}
        </Text>
      )}
    </Pressable>
  );
}

export function Field({ label, error, ...props }: TextInputProps & { label: string; error?: string[] }) {
  const theme = useTheme();
  return (
    <View style={{ gap: 4 }}>
      <Text style={{ color: theme.colors.text, fontWeight: "600" }}>{label}</Text>
      <TextInput
        aria-label={label}
        placeholderTextColor={theme.colors.muted}
        style={[styles.input, { borderColor: error ? theme.colors.error : theme.colors.text, borderRadius: theme.radius, color: theme.colors.text, backgroundColor: theme.colors.background }]}
        {...props}
      />
      {error?.map((message) => (
        <Text key={message} style={{ color: theme.colors.error }}>
          {message}
        </Text>
      ))}
    </View>
  );
}

export function Toggle({ label, value, onChange }: { label: string; value: boolean; onChange: (v: boolean) => void }) {
  const theme = useTheme();
  return (
    <View style={{ flexDirection: "row", alignItems: "center", justifyContent: "space-between" }}>
      <Text style={{ color: theme.colors.text, fontSize: 16 }}>{label}</Text>
      <Switch aria-label={label} value={value} onValueChange={onChange} trackColor={{ true: theme.colors.primary }} />
    </View>
  );
}

/** Several choices at once (a camp's days or weeks): each a checkbox; disabled ones stay shown. */
export function CheckChips<V extends string | number>({ label, options, values, onChange }: { label: string; options: { value: V; label: string; disabled?: boolean }[]; values: V[]; onChange: (v: V[]) => void }) {
  const theme = useTheme();
  return (
    <View style={{ gap: 6 }} role="group" aria-label={label}>
      <Text style={{ color: theme.colors.text, fontWeight: "600" }}>{label}</Text>
      <View style={{ flexDirection: "row", flexWrap: "wrap", gap: 8 }}>
        {options.map((option) => {
          const selected = values.includes(option.value);
          return (
            <Pressable
              key={String(option.value)}
              role="checkbox"
              aria-checked={selected}
              aria-disabled={option.disabled}
              aria-label={option.label}
              disabled={option.disabled}
              onPress={() => onChange(selected ? values.filter((v) => v !== option.value) : [...values, option.value])}
              style={{
                paddingHorizontal: 12,
                paddingVertical: 8,
                borderRadius: 999,
                borderWidth: 1,
                borderColor: option.disabled ? theme.colors.text : theme.colors.primary,
                opacity: option.disabled ? 0.6 : 1,
                backgroundColor: selected ? theme.colors.primary : theme.colors.background,
              }}
            >
              <Text style={{ color: selected ? theme.colors.onPrimary : option.disabled ? theme.colors.text : theme.colors.primary }}>{option.label}</Text>
            </Pressable>
          );
        })}
      </View>
    </View>
  );
}

export function Chips<V extends string | number>({ label, options, value, onChange }: { label: string; options: { value: V; label: string }[]; value: V | null; onChange: (v: V | null) => void }) {
  const theme = useTheme();
  return (
    <View style={{ gap: 6 }} role="radiogroup" aria-label={label}>
      <Text style={{ color: theme.colors.text, fontWeight: "600" }}>{label}</Text>
      <View style={{ flexDirection: "row", flexWrap: "wrap", gap: 8 }}>
        {options.map((option) => {
          const selected = option.value === value;
          return (
            <Pressable
              key={String(option.value)}
              role="radio"
              aria-checked={selected}
              aria-label={option.label}
              onPress={() => onChange(selected ? null : option.value)}
              style={{
                paddingHorizontal: 12,
                paddingVertical: 8,
                borderRadius: 999,
                borderWidth: 1,
                borderColor: theme.colors.primary,
                backgroundColor: selected ? theme.colors.primary : theme.colors.background,
              }}
            >
              <Text style={{ color: selected ? theme.colors.onPrimary : theme.colors.primary }}>{option.label}</Text>
            </Pressable>
          );
        })}
      </View>
    </View>
  );
}

export function Card({ children, onPress, label }: { children: ReactNode; onPress?: () => void; label?: string }) {
  const theme = useTheme();
  const style = { backgroundColor: theme.colors.surface, borderRadius: theme.radius, padding: theme.spacing * 1.5, gap: 6 };
  if (onPress) {
    return (
      <Pressable role="link" aria-label={label} onPress={onPress} style={style}>
        {children}
      </Pressable>
    );
  }
  return <View style={style}>{children}</View>;
}

export function Notice({ children, kind = "info" }: { children: ReactNode; kind?: "info" | "error" | "success" }) {
  const theme = useTheme();
  const color = kind === "error" ? theme.colors.error : kind === "success" ? theme.colors.secondary : theme.colors.primary;
  // Text alone flows as one paragraph; titles, paragraphs and buttons stack, one under the
  // other (inside a Text they would run on in one line).
  const blocks = Children.toArray(children).some((child) => isValidElement(child));
  return (
    <View role={kind === "error" ? "alert" : "status"} style={{ borderLeftWidth: 4, borderLeftColor: color, padding: 12, backgroundColor: theme.colors.surface, borderRadius: theme.radius, gap: blocks ? 8 : undefined }}>
      {blocks ? children : <Text style={{ color: theme.colors.text, fontSize: 15 }}>{children}</Text>}
    </View>
  );
}

export function ErrorNotice({ error }: { error: unknown }) {
  const { t } = useI18n();
  const { business } = useSession();
  if (!error) return null;
  const message =
    error instanceof ApiError
      ? error.code === "network"
        ? t("app.error.network", { business: business?.name ?? "Family Portal" })
        : error.message
      : String(error);
  return <Notice kind="error">{message}</Notice>;
}

/** Something the screen needs did not load (and nothing of it is shown): the reason and
 *  another try, rather than an empty list that reads as "you have none". */
export function LoadFailed({ load }: { load: { data: unknown; error: unknown; loading: boolean; reload: () => Promise<void> } }) {
  const { t } = useI18n();
  if (!load.error || load.data) return null;
  return (
    <>
      <ErrorNotice error={load.error} />
      <Button kind="secondary" title={t("app.retry")} onPress={() => void load.reload()} busy={load.loading} />
    </>
  );
}

export function Loading() {
  const theme = useTheme();
  const { t } = useI18n();
  return (
    <View style={{ padding: 24, alignItems: "center" }} role="progressbar" aria-label={t("app.loading")}>
      <ActivityIndicator color={theme.colors.primary} />
    </View>
  );
}

/** Load something from the API; `reload()` again after a change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const mounted = useRef(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      const value = await load();
      if (mounted.current) {
        setData(value);
        setError(null);
      }
    } catch (exc) {
      if (mounted.current) setError(exc);
    } finally {
      if (mounted.current) setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    mounted.current = true;
    void reload();
    return () => {
      mounted.current = false;
    };
  }, [reload]);
  return { data, error, loading, reload, setData };
}

/** Run an action that may fail with an ApiError: `busy`, `error`, and field errors. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async <R,>(action: () => Promise<R>): Promise<R | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (exc) {
      setError(exc);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  const fields = error instanceof ApiError ? error.fields : {};
  return { busy, error, run, fields, setError };
}

const styles = StyleSheet.create({
  button: { borderWidth: 2, paddingHorizontal: 16, alignItems: "center", justifyContent: "center", minHeight: 44 },
  input: { borderWidth: 1, paddingHorizontal: 12, paddingVertical: 10, fontSize: 16, minHeight: 44 },
});
