package io.openshell.client.ssh;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ssh command lines the CLI runs. All reach the sandbox through the gateway's tunnel: ssh's
 * ProxyCommand is {@code openshell ssh-proxy --gateway-name G --name N}, so no token ever appears on a
 * command line (the proxy finds it in the 0600 session cache) and every new connection gets a valid one.
 */
public final class SshCommandLine {
  /** The destination ssh sees; the ProxyCommand, not DNS, decides where it leads. */
  public static final String HOST = "sandbox";
  public static final String USER = "sandbox";

  /**
   * UPSTREAM.md §A CLI: no host-key bookkeeping (the sandbox's host key is new at every start and the tunnel
   * is authenticated by the gateway token), errors only, and keepalives that notice a dead relay in ~45 s.
   */
  static final List<Map.Entry<String, String>> OPTIONS = List.of(
      Map.entry("StrictHostKeyChecking", "no"),
      Map.entry("UserKnownHostsFile", "/dev/null"),
      Map.entry("GlobalKnownHostsFile", "/dev/null"),
      Map.entry("LogLevel", "ERROR"),
      Map.entry("ServerAliveInterval", "15"),
      Map.entry("ServerAliveCountMax", "3"));

  static final List<String> TTY = List.of("-tt", "-o", "RequestTTY=force", "-o", "SetEnv=TERM=xterm-256color");

  private final String proxyCommand;

  private SshCommandLine(String proxyCommand) {
    this.proxyCommand = proxyCommand;
  }

  /** {@code launcher} is the proxy command up to its arguments ({@link ProxyLauncher#command()}). */
  public static SshCommandLine forSandbox(List<String> launcher, String gatewayName, String sandboxName) {
    List<String> words = new ArrayList<>(launcher);
    words.addAll(List.of("--gateway-name", gatewayName, "--name", sandboxName));
    return new SshCommandLine(ShellQuoting.join(words));
  }

  /** The ProxyCommand as the user's shell will run it. */
  public String proxyCommand() {
    return proxyCommand;
  }

  /** {@code sandbox connect} and create without a command: an interactive login shell on a PTY. */
  public List<String> interactiveShell() {
    List<String> command = base();
    command.addAll(TTY);
    command.add(HOST);
    return command;
  }

  /** One command in the sandbox; ssh hands the remote shell a single string, so the words are quoted into one. */
  public List<String> run(List<String> words, boolean tty) {
    return remote(ShellQuoting.join(words), tty);
  }

  /** The receiving half of an upload: {@code tar -cf - … | <this>}. */
  public List<String> untarInto(String sandboxDir) {
    String dir = ShellQuoting.quote(sandboxDir);
    return remote("mkdir -p " + dir + " && tar -C " + dir + " -xf -", false);
  }

  /** The sending half of a download: {@code <this> | tar -xf -}. */
  public List<String> tarFrom(String sandboxDir, String name) {
    return remote("tar -C " + ShellQuoting.quote(sandboxDir) + " -cf - " + ShellQuoting.quote(name), false);
  }

  /** {@code bind:port} here to {@code 127.0.0.1:port} in the sandbox; no remote command; fails fast if the bind fails. */
  public List<String> forward(String bindAddress, int port) {
    List<String> command = base();
    command.addAll(List.of("-N", "-o", "ExitOnForwardFailure=yes", "-L", bindAddress + ":" + port + ":127.0.0.1:" + port, HOST));
    return command;
  }

  public static List<String> localTarCreate(Path dir, String name) {
    return List.of("tar", "-C", dir.toString(), "-cf", "-", name);
  }

  public static List<String> localTarExtract(Path dir) {
    return List.of("tar", "-C", dir.toString(), "-xf", "-");
  }

  private List<String> remote(String commandLine, boolean tty) {
    List<String> command = base();
    if (tty) command.addAll(TTY);
    else command.add("-T");
    // "--": ssh also parses options after the destination; the command must never be read as one.
    command.addAll(List.of(HOST, "--", commandLine));
    return command;
  }

  private List<String> base() {
    List<String> command = new ArrayList<>(List.of("ssh", "-o", "ProxyCommand=" + escapePercent(proxyCommand)));
    for (Map.Entry<String, String> option : OPTIONS) command.addAll(List.of("-o", option.getKey() + "=" + option.getValue()));
    command.addAll(List.of("-o", "User=" + USER));
    // Every sandbox is the same destination "sandbox" to ssh: a ControlMaster from the user's config would
    // hand one sandbox's connection to the next.
    command.addAll(List.of("-o", "ControlMaster=no", "-o", "ControlPath=none"));
    return command;
  }

  /** ssh expands %-tokens in ProxyCommand; a literal % in a path or URL must reach the shell as it is. */
  static String escapePercent(String value) {
    return value.replace("%", "%%");
  }
}
