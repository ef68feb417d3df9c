// Screens and how they connect. Signed out: the directory (shared app only), sign-in, sign-up
// and, when the business shows it to visitors, the class list. Signed in: five tabs and the
// screens they open. Tabs and entries follow the business's feature switches.
import { createBottomTabNavigator } from "@react-navigation/bottom-tabs";
import { type LinkingOptions, NavigationContainer, createNavigationContainerRef, DefaultTheme } from "@react-navigation/native";
import { createNativeStackNavigator, type NativeStackNavigationProp } from "@react-navigation/native-stack";
import { useNavigation } from "@react-navigation/native";
import { useEffect } from "react";

import { useI18n } from "./i18n";
import { onNotificationOpened } from "./push";
import AnnouncementsScreen from "./screens/Announcements";
import BillingScreen from "./screens/Billing";
import CartScreen from "./screens/Cart";
import ClassDetailScreen from "./screens/ClassDetail";
import ClassesScreen from "./screens/Classes";
import ClassFinderScreen from "./screens/ClassFinder";
import FamilyScreen, { ContactFormScreen, GuardianFormScreen, StudentFormScreen } from "./screens/Family";
import FindBusinessScreen from "./screens/FindBusiness";
import HomeScreen from "./screens/Home";
import MoreScreen from "./screens/More";
import OrderScreen from "./screens/Order";
import RequestFormScreen from "./screens/RequestForm";
import RequestsScreen from "./screens/Requests";
import ScheduleScreen from "./screens/Schedule";
import { SignInScreen, SignUpScreen } from "./screens/Auth";
import StoreScreen from "./screens/Store";
import WaitlistScreen from "./screens/Waitlist";
import { useSession } from "./session";
import { useTheme } from "./theme";

export type RootParams = {
  FindBusiness: undefined;
  SignIn: undefined;
  SignUp: undefined;
  Tabs: undefined;
  Classes: { programId?: number } | undefined;
  ClassDetail: { id: number };
  ClassFinder: undefined;
  Order: { id: number };
  Waitlist: undefined;
  Requests: undefined;
  RequestForm: { type: "absence" | "transfer" | "drop" | "makeup"; enrollmentId?: number; tokenId?: number };
  Family: undefined;
  StudentForm: { id?: number } | undefined;
  GuardianForm: undefined;
  ContactForm: undefined;
  Billing: undefined;
  Store: undefined;
  Announcements: undefined;
  Cart: undefined;
};

export type Nav = NativeStackNavigationProp<RootParams>;
export const useNav = () => useNavigation<Nav>();

const Stack = createNativeStackNavigator<RootParams>();
const Tab = createBottomTabNavigator();
export const navigationRef = createNavigationContainerRef<RootParams>();

function Tabs() {
  const { t } = useI18n();
  const { settings } = useSession();
  const theme = useTheme();
  return (
    <Tab.Navigator
      screenOptions={{
        tabBarActiveTintColor: theme.colors.primary,
        tabBarInactiveTintColor: theme.colors.text,
        tabBarIcon: () => null,
        tabBarIconStyle: { display: "none" },
        tabBarLabelStyle: { fontSize: 14, fontWeight: "600" },
        headerStyle: { backgroundColor: theme.colors.primary },
        headerTintColor: theme.colors.onPrimary,
      }}
    >
      <Tab.Screen name="Home" component={HomeScreen} options={{ title: t("tabs.home") }} />
      {settings?.show_classes !== false && (
        <Tab.Screen name="ClassesTab" component={ClassesScreen} options={{ title: t("tabs.classes") }} />
      )}
      <Tab.Screen name="CartTab" component={CartScreen} options={{ title: t("tabs.cart") }} />
      <Tab.Screen name="Schedule" component={ScheduleScreen} options={{ title: t("tabs.schedule") }} />
      <Tab.Screen name="More" component={MoreScreen} options={{ title: t("tabs.more") }} />
    </Tab.Navigator>
  );
}

function NotificationRouter() {
  const navigation = useNav();
  useEffect(
    () =>
      onNotificationOpened((screen) => {
        if (screen === "Cart") navigation.navigate("Cart");
        else if (screen in SCREEN_NAMES) navigation.navigate(screen as "Waitlist");
      }),
    [navigation],
  );
  return null;
}
const SCREEN_NAMES = { Waitlist: 1, Requests: 1, Billing: 1, Announcements: 1 };

export function AppNavigator({ linking }: { linking?: LinkingOptions<RootParams> }) {
  const { business, token, settings } = useSession();
  const { t } = useI18n();
  const theme = useTheme();
  const headerOptions = {
    headerStyle: { backgroundColor: theme.colors.primary },
    headerTintColor: theme.colors.onPrimary,
    contentStyle: { backgroundColor: theme.colors.background },
  };
  return (
    <NavigationContainer
      ref={navigationRef}
      linking={linking}
      theme={{ ...DefaultTheme, colors: { ...DefaultTheme.colors, background: theme.colors.background, primary: theme.colors.primary, text: theme.colors.text, card: theme.colors.background } }}
      documentTitle={{ formatter: (options) => [options?.title, business?.name ?? "Family Portal"].filter(Boolean).join(" · ") }}
    >
      <Stack.Navigator screenOptions={headerOptions}>
        {!business ? (
          <Stack.Screen name="FindBusiness" component={FindBusinessScreen} options={{ title: t("find.title") }} />
        ) : !token ? (
          <>
            <Stack.Screen name="SignIn" component={SignInScreen} options={{ title: business.name }} />
            <Stack.Screen name="SignUp" component={SignUpScreen} options={{ title: t("auth.signup") }} />
            {settings?.list_visible_when_logged_out !== false && (
              <>
                <Stack.Screen name="Classes" component={ClassesScreen} options={{ title: t("classes.title") }} />
                <Stack.Screen name="ClassDetail" component={ClassDetailScreen} options={{ title: t("classes.title") }} />
                <Stack.Screen name="ClassFinder" component={ClassFinderScreen} options={{ title: t("finder.title") }} />
              </>
            )}
          </>
        ) : (
          <>
            <Stack.Screen name="Tabs" component={Tabs} options={{ headerShown: false, title: business.name }} />
            <Stack.Screen name="Classes" component={ClassesScreen} options={{ title: t("classes.title") }} />
            <Stack.Screen name="ClassDetail" component={ClassDetailScreen} options={{ title: t("classes.title") }} />
            <Stack.Screen name="ClassFinder" component={ClassFinderScreen} options={{ title: t("finder.title") }} />
            <Stack.Screen name="Cart" component={CartScreen} options={{ title: t("cart.title") }} />
            <Stack.Screen name="Order" component={OrderScreen} options={({ route }) => ({ title: t("order.title", { id: route.params.id }) })} />
            <Stack.Screen name="Waitlist" component={WaitlistScreen} options={{ title: t("waitlist.title") }} />
            <Stack.Screen name="Requests" component={RequestsScreen} options={{ title: t("requests.title") }} />
            <Stack.Screen name="RequestForm" component={RequestFormScreen} options={({ route }) => ({ title: t(`request.${route.params.type}.title`) })} />
            <Stack.Screen name="Family" component={FamilyScreen} options={{ title: t("family.title") }} />
            <Stack.Screen name="StudentForm" component={StudentFormScreen} options={{ title: t("family.addStudent") }} />
            <Stack.Screen name="GuardianForm" component={GuardianFormScreen} options={{ title: t("family.addGuardian") }} />
            <Stack.Screen name="ContactForm" component={ContactFormScreen} options={{ title: t("family.addContact") }} />
            <Stack.Screen name="Billing" component={BillingScreen} options={{ title: t("billing.title") }} />
            <Stack.Screen name="Store" component={StoreScreen} options={{ title: t("store.title") }} />
            <Stack.Screen name="Announcements" component={AnnouncementsScreen} options={{ title: t("announcements.title") }} />
          </>
        )}
      </Stack.Navigator>
      {token ? <NotificationRouter /> : null}
    </NavigationContainer>
  );
}
