// Native modules jest cannot load: the keychain (an in-memory map), Stripe's SDK (the payment
// sheet needs a phone) and push permissions (no device). The API is a fake fetch per test
// (__tests__/server.ts): these tests cover the screens, the E2E journey covers the real API.
const mockStore = new Map<string, string>();
export const mockStoreClear = () => mockStore.clear();
jest.mock("expo-secure-store", () => ({
  getItemAsync: async (key: string) => mockStore.get(key) ?? null,
  setItemAsync: async (key: string, value: string) => void mockStore.set(key, value),
  deleteItemAsync: async (key: string) => void mockStore.delete(key),
}));
jest.mock("@stripe/stripe-react-native", () => ({
  StripeProvider: ({ children }: { children: unknown }) => children,
  useStripe: () => ({ initPaymentSheet: jest.fn(async () => ({})), presentPaymentSheet: jest.fn(async () => ({})) }),
}));
jest.mock("expo-notifications", () => ({
  setNotificationHandler: jest.fn(),
  addNotificationResponseReceivedListener: jest.fn(() => ({ remove: jest.fn() })),
  getPermissionsAsync: jest.fn(async () => ({ status: "denied" })),
  requestPermissionsAsync: jest.fn(async () => ({ status: "denied" })),
  setNotificationChannelAsync: jest.fn(),
  AndroidImportance: { HIGH: 4 },
}));
jest.mock("expo-device", () => ({ isDevice: false, deviceName: "Test phone", modelName: "Test" }));
