module.exports = {
  preset: "jest-expo/ios",
  testTimeout: 60_000,
  setupFiles: ["<rootDir>/jest.setup.ts"],
  setupFilesAfterEnv: ["<rootDir>/jest.after-env.ts"],
  testMatch: ["<rootDir>/__tests__/**/*.test.ts?(x)"],
  transformIgnorePatterns: [
    "node_modules/(?!((jest-)?react-native|@react-native(-community)?|expo(nent)?|@expo(nent)?/.*|react-navigation|@react-navigation/.*|@stripe/.*|openapi-fetch|react-native-.*))",
  ],
};
