package io.openshell.client.ssh;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.Main;
import io.openshell.client.connection.Environment;
import io.openshell.client.sshproxy.FakeTunnelGateway;
import io.openshell.client.sshsession.SshSession;
import io.openshell.client.sshsession.SshSessionCache;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client half of the chain without a sandbox: the real OpenSSH client runs the real ProxyCommand (the
 * proxy's lean JVM, name mode), which finds the session the CLI cached and CONNECTs to a fake tunnel.
 */
class SshThroughTheProxyTest {
  @TempDir
  Path home;

  private Environment environment;

  @BeforeEach
  void needsTheSshClient() {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh")), "OpenSSH client not installed");
    environment = new Environment(Map.of("XDG_STATE_HOME", home.resolve("state").toString(),
        "XDG_CONFIG_HOME", home.resolve("config").toString()), home.toString());
  }

  private String cacheSession(FakeTunnelGateway tunnel, String token) {
    String gateway = "http://127.0.0.1:" + tunnel.port();
    new SshSessionCache(environment.stateDir().resolve("ssh-sessions")).store(gateway, "box",
        SshSession.validated("test", "sb-1", token, "127.0.0.1", tunnel.port(), "http", "/connect/ssh", 0));
    return gateway;
  }

  @Test
  void sshReceivesTheSandboxBannerThroughTheProxyAndTheCachedToken() throws Exception {
    try (FakeTunnelGateway tunnel = new FakeTunnelGateway(head -> 200)) {
      String gateway = cacheSession(tunnel, "cached-token");
      List<String> command = new ArrayList<>(SshCommandLine.forSandbox(ProxyLauncher.command(), gateway, "box").run(List.of("true"), false));
      command.add(1, "-v");

      Process ssh = SshProcess.inEnvironment(new ProcessBuilder(command), environment).redirectErrorStream(true).start();
      ssh.getOutputStream().close();
      assertTrue(ssh.waitFor(60, TimeUnit.SECONDS));
      String log = new String(ssh.getInputStream().readAllBytes(), UTF_8);

      // The banner travels with the 200 in one segment: ssh can only have read it from what followed the head.
      assertTrue(log.contains("remote software version FakeSandbox"), log);
      assertTrue(tunnel.heads().get(0).contains("X-Sandbox-Token: cached-token\r\n"), tunnel.heads().get(0));
      assertTrue(tunnel.heads().get(0).contains("X-Sandbox-Id: sb-1\r\n"));
    }
  }

  @Test
  void connectRunsSshAndEndsWithItsExitCodeWhenTheGatewayRefuses() throws Exception {
    try (FakeTunnelGateway tunnel = new FakeTunnelGateway(head -> 403)) {
      String gateway = cacheSession(tunnel, "cached-token");

      int exit = Main.run(new String[] {"sandbox", "connect", "box", "--gateway-endpoint", gateway}, environment,
          new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));

      assertEquals(255, exit, "ssh's own exit code for a failed connection");
      assertEquals(1, tunnel.heads().size());
    }
  }

  @Test
  void sshConfigPrintsTheBlockAndInstallMakesTheAliasResolve() throws Exception {
    try (FakeTunnelGateway tunnel = new FakeTunnelGateway(head -> 403)) {
      String gateway = cacheSession(tunnel, "cached-token");
      StringWriter out = new StringWriter();

      int exit = Main.run(new String[] {"sandbox", "ssh-config", "box", "--gateway-endpoint", gateway}, environment,
          new PrintWriter(out), new PrintWriter(new StringWriter()));

      assertEquals(0, exit);
      String block = out.toString();
      assertTrue(block.startsWith("Host openshell-box\n    User sandbox\n"), block);
      assertTrue(block.contains("ServerAliveCountMax 3\n"), block);
      assertTrue(block.contains(" --gateway-name '" + gateway + "' --name box\n"), block);
      assertFalse(block.contains("cached-token"), "no token in the config");

      assertEquals(0, Main.run(new String[] {"sandbox", "ssh-config", "box", "--install", "--gateway-endpoint", gateway}, environment,
          new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())));
      assertEquals(block, Files.readString(home.resolve("config/openshell/ssh_config")));
      assertEquals("Include " + home.resolve("config/openshell/ssh_config") + "\n", Files.readString(home.resolve(".ssh/config")));
    }
  }
}
