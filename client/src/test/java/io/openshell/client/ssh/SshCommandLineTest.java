package io.openshell.client.ssh;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class SshCommandLineTest {
  private static final List<String> LAUNCHER = List.of("/opt/open shell/openshell", "ssh-proxy");
  private static final SshCommandLine SSH = SshCommandLine.forSandbox(LAUNCHER, "local", "my-box");
  private static final String PROXY = "'/opt/open shell/openshell' ssh-proxy --gateway-name local --name my-box";
  private static final List<String> BASE = List.of("ssh", "-o", "ProxyCommand=" + PROXY,
      "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
      "-o", "LogLevel=ERROR", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3",
      "-o", "User=sandbox", "-o", "ControlMaster=no", "-o", "ControlPath=none");

  private static List<String> base(String... more) {
    List<String> command = new ArrayList<>(BASE);
    command.addAll(List.of(more));
    return command;
  }

  @Test
  void theProxyCommandNamesTheGatewayAndSandboxAndNeverAToken() {
    assertEquals(PROXY, SSH.proxyCommand());
    assertEquals("/x/openshell ssh-proxy --gateway-name 'http://10.0.0.5:8080' --name 'odd name'",
        SshCommandLine.forSandbox(List.of("/x/openshell", "ssh-proxy"), "http://10.0.0.5:8080", "odd name").proxyCommand());
  }

  @Test
  void connectForcesATerminalWithTerm() {
    assertEquals(base("-tt", "-o", "RequestTTY=force", "-o", "SetEnv=TERM=xterm-256color", "sandbox"), SSH.interactiveShell());
  }

  @Test
  void aCommandIsOneQuotedStringAfterDoubleDashWithoutATerminalUnlessAsked() {
    assertEquals(base("-T", "sandbox", "--", "echo 'smoke ok' '$HOME'"), SSH.run(List.of("echo", "smoke ok", "$HOME"), false));
    assertEquals(base("-tt", "-o", "RequestTTY=force", "-o", "SetEnv=TERM=xterm-256color", "sandbox", "--", "bash"),
        SSH.run(List.of("bash"), true));
  }

  @Test
  void uploadAndDownloadAreTarOverSsh() {
    assertEquals(base("-T", "sandbox", "--", "mkdir -p '/sandbox/my dir' && tar -C '/sandbox/my dir' -xf -"),
        SSH.untarInto("/sandbox/my dir"));
    assertEquals(base("-T", "sandbox", "--", "tar -C /var/log -cf - 'a b.log'"), SSH.tarFrom("/var/log", "a b.log"));
    assertEquals(List.of("tar", "-C", "/home/me", "-cf", "-", "project"), SshCommandLine.localTarCreate(Path.of("/home/me"), "project"));
    assertEquals(List.of("tar", "-C", "/tmp/out", "-xf", "-"), SshCommandLine.localTarExtract(Path.of("/tmp/out")));
  }

  @Test
  void aForwardListensHereAndLeadsToTheSandboxLoopback() {
    assertEquals(base("-N", "-o", "ExitOnForwardFailure=yes", "-L", "127.0.0.1:8080:127.0.0.1:8080", "sandbox"),
        SSH.forward("127.0.0.1", 8080));
  }

  @Test
  void aPercentInTheProxyCommandReachesTheShellAsItIs() {
    SshCommandLine odd = SshCommandLine.forSandbox(List.of("/x/100%/openshell", "ssh-proxy"), "local", "box");
    assertTrue(odd.run(List.of("true"), false).contains("ProxyCommand='/x/100%%/openshell' ssh-proxy --gateway-name local --name box"));
  }

  @Test
  void sshItselfReadsTheOptionsAsIntended() throws Exception {
    List<String> command = new ArrayList<>(SSH.forward("127.0.0.1", 8080));
    command.add(1, "-G");
    String config = sshG(command);
    assertTrue(config.contains("proxycommand " + PROXY), config);
    assertTrue(config.contains("user sandbox"), config);
    assertTrue(config.contains("stricthostkeychecking false"), config);
    assertTrue(config.contains("userknownhostsfile /dev/null"), config);
    assertTrue(config.contains("serveraliveinterval 15"), config);
    assertTrue(config.contains("serveralivecountmax 3"), config);
    assertTrue(config.contains("exitonforwardfailure yes"), config);
    assertTrue(config.contains("localforward [127.0.0.1]:8080 [127.0.0.1]:8080"), config);
    assertTrue(config.contains("controlmaster false"), config);
  }

  /** {@code ssh -G}: prints the configuration ssh would use, without connecting; needs only the client. */
  static String sshG(List<String> command) throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh")), "OpenSSH client not installed");
    Process ssh = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertTrue(ssh.waitFor(10, TimeUnit.SECONDS));
    String out = new String(ssh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, ssh.exitValue(), out);
    return out;
  }
}
