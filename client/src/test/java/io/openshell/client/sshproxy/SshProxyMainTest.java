package io.openshell.client.sshproxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.connection.Environment;
import io.openshell.client.sshsession.SshSession;
import io.openshell.client.sshsession.SshSessionCache;
import io.openshell.client.sshsession.SshSessions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshProxyMainTest {
  private static final String TOKEN = "a1b2c3d4-token-9f8e";

  @TempDir
  Path state;

  private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

  private int proxy(InputStream stdin, String... args) {
    Environment environment = new Environment(Map.of("XDG_STATE_HOME", state.toString()), state.toString());
    return SshProxyMain.run(args, environment, stdin, stdout, new PrintStream(stderr, true, US_ASCII));
  }

  private static InputStream stdin(String text) {
    return new ByteArrayInputStream(text.getBytes(US_ASCII));
  }

  private static String[] tokenMode(FakeTunnelGateway gateway) {
    return new String[] {"--gateway", "http://127.0.0.1:" + gateway.port(), "--sandbox-id", "sb-1", "--token", TOKEN};
  }

  @Test
  void tokenModeSendsTheConnectHeadThenBridgesWithTheBannerFirst() throws Exception {
    try (FakeTunnelGateway gateway = new FakeTunnelGateway(head -> 200)) {
      int exit = proxy(stdin("client hello\n"), tokenMode(gateway));

      assertEquals(0, exit, stderr.toString(US_ASCII));
      // Banner (sent with the 200), then the echo of stdin (proof of the half-close), then the server's last words.
      assertEquals(FakeTunnelGateway.BANNER + "client hello\nbye", stdout.toString(US_ASCII));
      assertEquals("CONNECT /connect/ssh HTTP/1.1\r\nHost: 127.0.0.1:" + gateway.port() + "\r\nX-Sandbox-Id: sb-1\r\n"
          + "X-Sandbox-Token: " + TOKEN + "\r\n\r\n", gateway.heads().get(0));
    }
  }

  @Test
  void aConnectPathInTheGatewayUrlIsUsed() throws Exception {
    try (FakeTunnelGateway gateway = new FakeTunnelGateway(head -> 200)) {
      int exit = proxy(stdin(""), "--gateway=http://127.0.0.1:" + gateway.port() + "/tunnel/ssh", "--sandbox-id=sb-1", "--token=" + TOKEN);
      assertEquals(0, exit, stderr.toString(US_ASCII));
      assertTrue(gateway.heads().get(0).startsWith("CONNECT /tunnel/ssh HTTP/1.1\r\n"));
    }
  }

  @Test
  void a403EndsTheProxyWithTheStatusAndNeverShowsTheToken() throws Exception {
    try (FakeTunnelGateway gateway = new FakeTunnelGateway(head -> 403)) {
      int exit = proxy(stdin(""), tokenMode(gateway));

      assertEquals(1, exit);
      assertTrue(stderr.toString(US_ASCII).contains("gateway CONNECT failed with status 403"), stderr.toString(US_ASCII));
      assertFalse(stderr.toString(US_ASCII).contains(TOKEN));
      assertEquals(0, stdout.size(), "nothing reaches ssh");
      assertEquals(1, gateway.heads().size(), "403 is not retried");
    }
  }

  @Test
  void a401InTokenModeIsFinal() throws Exception {
    try (FakeTunnelGateway gateway = new FakeTunnelGateway(head -> 401)) {
      assertEquals(1, proxy(stdin(""), tokenMode(gateway)));
      assertTrue(stderr.toString(US_ASCII).contains("gateway CONNECT failed with status 401"));
      assertEquals(1, gateway.heads().size());
    }
  }

  @Test
  void a412IsRetriedAfterOneSecondUntilTheSandboxIsReady() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    try (FakeTunnelGateway gateway = new FakeTunnelGateway(head -> attempts.incrementAndGet() == 1 ? 412 : 200)) {
      long started = System.nanoTime();
      int exit = proxy(stdin(""), tokenMode(gateway));

      assertEquals(0, exit, stderr.toString(US_ASCII));
      assertTrue(System.nanoTime() - started >= 1_000_000_000L, "waited the first backoff step");
      assertTrue(stderr.toString(US_ASCII).contains("retrying in 1 s"), stderr.toString(US_ASCII));
      assertEquals(FakeTunnelGateway.BANNER + "bye", stdout.toString(US_ASCII));
      assertEquals(2, gateway.heads().size());
    }
  }

  @Test
  void aRejectedCachedTokenIsMintedAgainOnceAndThenUsed() throws Exception {
    List<String> mints = new ArrayList<>();
    try (FakeTunnelGateway gateway = new FakeTunnelGateway(head -> head.contains("X-Sandbox-Token: fresh") ? 200 : 401)) {
      SshSessionCache cache = new SshSessionCache(state.resolve("ssh-sessions"));
      cache.store("local", "box", session(gateway, "stale"));
      SshSessions sessions = new SshSessions(cache, (endpoint, name) -> {
        mints.add(name);
        return session(gateway, "fresh");
      });

      int exit = SshProxyMain.connectAndBridge(new NamedSessionSource(sessions, "local", "http://unused", "box"),
          stdin("hi"), stdout, new PrintStream(stderr, true, US_ASCII));

      assertEquals(0, exit, stderr.toString(US_ASCII));
      assertEquals(List.of("box"), mints);
      assertEquals(2, gateway.heads().size());
      assertEquals("fresh", cache.load("local", "box", 0).orElseThrow().token(), "the new token replaced the stale one");
    }
  }

  @Test
  void aCachedTokenAtItsConnectionCapIsReplacedByAFreshOne() throws Exception {
    List<String> mints = new ArrayList<>();
    try (FakeTunnelGateway gateway = new FakeTunnelGateway(head -> head.contains("X-Sandbox-Token: fresh") ? 200 : 429)) {
      SshSessionCache cache = new SshSessionCache(state.resolve("ssh-sessions"));
      cache.store("local", "box", session(gateway, "busy"));
      SshSessions sessions = new SshSessions(cache, (endpoint, name) -> {
        mints.add(name);
        return session(gateway, "fresh");
      });

      int exit = SshProxyMain.connectAndBridge(new NamedSessionSource(sessions, "local", "http://unused", "box"),
          stdin("hi"), stdout, new PrintStream(stderr, true, US_ASCII));

      assertEquals(0, exit, stderr.toString(US_ASCII));
      assertEquals(List.of("box"), mints);
    }
  }

  @Test
  void a429OnAFreshTokenIsFinal() throws Exception {
    try (FakeTunnelGateway gateway = new FakeTunnelGateway(head -> 429)) {
      SshSessions sessions = new SshSessions(new SshSessionCache(state.resolve("ssh-sessions")),
          (endpoint, name) -> session(gateway, "minted"));
      int exit = SshProxyMain.connectAndBridge(new NamedSessionSource(sessions, "local", "http://unused", "box"),
          stdin(""), stdout, new PrintStream(stderr, true, US_ASCII));
      assertEquals(1, exit);
      assertTrue(stderr.toString(US_ASCII).contains("gateway CONNECT failed with status 429"));
    }
  }

  @Test
  void aFreshlyMintedTokenThatIsRejectedIsNotMintedAgain() throws Exception {
    List<String> mints = new ArrayList<>();
    try (FakeTunnelGateway gateway = new FakeTunnelGateway(head -> 401)) {
      SshSessions sessions = new SshSessions(new SshSessionCache(state.resolve("ssh-sessions")), (endpoint, name) -> {
        mints.add(name);
        return session(gateway, "minted");
      });

      int exit = SshProxyMain.connectAndBridge(new NamedSessionSource(sessions, "local", "http://unused", "box"),
          stdin(""), stdout, new PrintStream(stderr, true, US_ASCII));

      assertEquals(1, exit);
      assertEquals(1, mints.size());
      assertTrue(stderr.toString(US_ASCII).contains("gateway CONNECT failed with status 401"));
    }
  }

  @Test
  void badArgumentsAreAUsageErrorAndBadValuesAreRefused() throws Exception {
    assertEquals(2, proxy(stdin(""), "--gateway", "http://127.0.0.1:1", "--sandbox-id", "sb"));
    assertTrue(stderr.toString(US_ASCII).contains("token mode needs --gateway, --sandbox-id and --token"));
    assertEquals(2, proxy(stdin(""), "--gateway-name", "local", "--name", "x", "--token", "t"));
    assertEquals(2, proxy(stdin(""), "--bogus"));
    assertEquals(0, proxy(stdin(""), "--help"));

    stderr.reset();
    assertEquals(1, proxy(stdin(""), "--gateway", "http://127.0.0.1:1", "--sandbox-id", "sb", "--token", "x\r\nX-Evil: 1"));
    assertTrue(stderr.toString(US_ASCII).contains("refusing the command line: token"), stderr.toString(US_ASCII));
  }

  @Test
  void nameModeOnAStoppedLocalGatewaySaysSo() {
    assertEquals(1, proxy(stdin(""), "--gateway-name", "local", "--name", "box"));
    assertTrue(stderr.toString(US_ASCII).contains("the local gateway is not running"), stderr.toString(US_ASCII));
    stderr.reset();
    assertEquals(1, proxy(stdin(""), "--gateway-name", "prod", "--name", "box"));
    assertTrue(stderr.toString(US_ASCII).contains("unknown gateway name 'prod'"), stderr.toString(US_ASCII));
  }

  private static SshSession session(FakeTunnelGateway gateway, String token) {
    return SshSession.validated("test", "sb-1", token, "127.0.0.1", gateway.port(), "http", "/connect/ssh", 0);
  }
}
