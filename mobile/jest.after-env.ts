// Each test starts signed out of the fake keychain.
import { configure } from "@testing-library/react-native";

import { mockStoreClear } from "./jest.setup";

beforeEach(() => mockStoreClear());

// The first render of the navigator is slow on a busy 2-core machine.
configure({ asyncUtilTimeout: 10_000 });
