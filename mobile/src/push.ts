// Push notifications on phones: ask permission, get this install's Expo push token, register it
// with the business (POST /api/v1/devices), forget it on sign-out, and open the screen a
// notification names (waitlist offer -> Waitlist, ...).
import * as Device from "expo-device";
import * as Notifications from "expo-notifications";
import Constants from "expo-constants";
import { Platform } from "react-native";

import { ok, type FamilyClient } from "./api/client";
import { APP_ID } from "./config";

Notifications.setNotificationHandler({
  handleNotification: async () => ({
    shouldShowBanner: true,
    shouldShowList: true,
    shouldPlaySound: true,
    shouldSetBadge: false,
  }),
});

export async function registerForPush(api: FamilyClient, language: string): Promise<number | null> {
  if (!Device.isDevice) return null; // simulators get no push token
  if (Platform.OS === "android") {
    await Notifications.setNotificationChannelAsync("default", {
      name: "default",
      importance: Notifications.AndroidImportance.HIGH,
    });
  }
  let { status } = await Notifications.getPermissionsAsync();
  if (status !== "granted") status = (await Notifications.requestPermissionsAsync()).status;
  if (status !== "granted") return null;
  const projectId = (Constants.expoConfig?.extra as { eas?: { projectId?: string } } | undefined)?.eas?.projectId;
  const { data: token } = await Notifications.getExpoPushTokenAsync(projectId ? { projectId } : undefined);
  const device = await ok(
    api.POST("/api/v1/devices", {
      body: {
        token,
        platform: Platform.OS === "ios" ? "ios" : "android",
        app_id: APP_ID,
        device_name: Device.deviceName ?? Device.modelName ?? "",
        locale: language,
      },
    }),
  );
  return device.id;
}

export async function unregisterPush(api: FamilyClient, deviceId: number): Promise<void> {
  await api.DELETE("/api/v1/devices/{device_id}", { params: { path: { device_id: deviceId } } });
}

/** Calls `open(screen)` when the family taps a notification. Returns the unsubscribe. */
export function onNotificationOpened(open: (screen: string) => void): () => void {
  const subscription = Notifications.addNotificationResponseReceivedListener((response) => {
    const screen = (response.notification.request.content.data as { screen?: string } | undefined)?.screen;
    if (screen) open(screen);
  });
  return () => subscription.remove();
}
