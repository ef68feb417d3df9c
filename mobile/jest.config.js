module.exports = {
  preset: "jest-expo/ios",
  setupFilesAfterEach: undefined,
  setupFiles: ["<rootDir>/jest.setup.ts"],
  testMatch: ["<rootDir>/__tests__/**/*.test.tsx", "<rootDir>/__tests__/**/*.test.ts"],
  transformIgnorePatterns: [
    "node_modules/(?!((jest-)?react-native|@react-native(-community)?|expo(nent)?|@expo(nent)?/.*|@expo-google-fonts/.*|react-navigation|@react-navigation/.*|@stripe/.*|openapi-fetch|react-native-.*))",
  ],
};
