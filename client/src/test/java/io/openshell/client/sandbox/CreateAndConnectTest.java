package io.openshell.client.sandbox;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.Main;
import io.openshell.client.connection.Environment;
import io.openshell.client.sshproxy.FakeTunnelGateway;
import io.openshell.protocol.v1.SandboxPhase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sandbox create -- CMD} and {@code connect} against a fake gRPC gateway (pekko-grpc) and a fake
 * tunnel: the CLI mints the session with grpc-java, ssh's ProxyCommand uses it from the cache, and the
 * tunnel refuses with 403, so ssh fails before it could read this JVM's stdin.
 */
class CreateAndConnectTest {
  @TempDir
  Path home;

  private Environment environment;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void needsTheSshClient() {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh")), "OpenSSH client not installed");
    environment = new Environment(Map.of("XDG_STATE_HOME", home.resolve("state").toString(),
        "XDG_CONFIG_HOME", home.resolve("config").toString()), home.toString());
  }

  private int cli(String... args) {
    return Main.run(args, environment, new PrintWriter(out), new PrintWriter(err));
  }

  @Test
  void createRunsTheCommandOverSshExitsWithItsCodeAndNoKeepDeletesEvenOnFailure() throws Exception {
    try (FakeTunnelGateway tunnel = new FakeTunnelGateway(head -> 403);
        FakeGateway gateway = new FakeGateway(tunnel.port(), SandboxPhase.SANDBOX_PHASE_READY)) {

      int exit = cli("sandbox", "create", "--name", "box", "--no-keep", "--gateway-endpoint", gateway.endpoint(), "--", "echo", "hi");

      assertEquals(255, exit, err.toString());
      assertTrue(out.toString().contains("Created sandbox: box\n"), out.toString());
      assertEquals(List.of("id-box"), gateway.sshSessionsFor);
      assertEquals(1, tunnel.heads().size());
      assertTrue(tunnel.heads().get(0).contains("X-Sandbox-Id: id-box\r\nX-Sandbox-Token: minted-token\r\n"), tunnel.heads().get(0));
      assertEquals(List.of("box"), gateway.deleted);
      assertTrue(err.toString().contains("Deleted sandbox: box"), err.toString());
    }
  }

  @Test
  void aSessionOutsideTheCharsetContractIsRefusedBeforeSshStarts() throws Exception {
    try (FakeTunnelGateway tunnel = new FakeTunnelGateway(head -> 200);
        FakeGateway gateway = new FakeGateway(tunnel.port(), SandboxPhase.SANDBOX_PHASE_READY)) {
      gateway.token = "tok; touch /tmp/pwned";

      int exit = cli("sandbox", "create", "--name", "box", "--no-keep", "--gateway-endpoint", gateway.endpoint(), "--", "true");

      assertEquals(1, exit);
      assertTrue(err.toString().contains("error: refusing the gateway's CreateSshSession response: token"), err.toString());
      assertFalse(err.toString().contains("pwned"), "the token is never shown");
      assertTrue(tunnel.heads().isEmpty());
      assertEquals(List.of("box"), gateway.deleted);
    }
  }

  @Test
  void withoutACommandOrATerminalCreateOnlyCreates() throws Exception {
    try (FakeTunnelGateway tunnel = new FakeTunnelGateway(head -> 200);
        FakeGateway gateway = new FakeGateway(tunnel.port(), SandboxPhase.SANDBOX_PHASE_READY)) {

      assertEquals(0, cli("sandbox", "create", "--name", "box", "--gateway-endpoint", gateway.endpoint()), err.toString());

      assertEquals("Created sandbox: box\n", out.toString());
      assertTrue(gateway.sshSessionsFor.isEmpty());
      assertTrue(gateway.deleted.isEmpty());
    }
  }

  @Test
  void connectToASandboxThatIsNotReadySaysSoWithoutRunningSsh() throws Exception {
    try (FakeTunnelGateway tunnel = new FakeTunnelGateway(head -> 200);
        FakeGateway gateway = new FakeGateway(tunnel.port(), SandboxPhase.SANDBOX_PHASE_PROVISIONING)) {

      assertEquals(1, cli("sandbox", "connect", "box", "--gateway-endpoint", gateway.endpoint()));

      assertTrue(err.toString().contains("error: sandbox 'box' is not ready (phase: PROVISIONING)"), err.toString());
      assertTrue(gateway.sshSessionsFor.isEmpty());
      assertTrue(tunnel.heads().isEmpty());
    }
  }

  @Test
  void deleteForgetsTheCachedSessionAndTheManagedSshConfigBlock() throws Exception {
    try (FakeTunnelGateway tunnel = new FakeTunnelGateway(head -> 403);
        FakeGateway gateway = new FakeGateway(tunnel.port(), SandboxPhase.SANDBOX_PHASE_READY)) {
      assertEquals(0, cli("sandbox", "ssh-config", "box", "--install", "--gateway-endpoint", gateway.endpoint()), err.toString());
      Path managed = home.resolve("config/openshell/ssh_config");
      assertTrue(Files.readString(managed).contains("Host openshell-box"));
      assertEquals(1, gateway.sshSessionsFor.size());

      assertEquals(0, cli("sandbox", "delete", "box", "--gateway-endpoint", gateway.endpoint()), err.toString());

      assertFalse(Files.readString(managed).contains("openshell-box"));
      try (var sessions = Files.list(home.resolve("state/openshell/ssh-sessions"))) {
        assertEquals(0, sessions.filter(p -> p.toString().endsWith(".session")).count());
      }
    }
  }
}
