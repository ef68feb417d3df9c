// Secrets (the bearer token) in the device's keychain / keystore.
import * as SecureStore from "expo-secure-store";

export const storage = {
  get: (key: string) => SecureStore.getItemAsync(key),
  set: (key: string, value: string) => SecureStore.setItemAsync(key, value),
  remove: (key: string) => SecureStore.deleteItemAsync(key),
};
