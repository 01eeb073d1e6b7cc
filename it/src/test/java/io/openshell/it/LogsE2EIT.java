package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Logs and events end to end (issue 9, acceptance 1 and 2, platform events on the watch stream): the
 * real CLI, a gateway process, and a supervisor process that dials the gateway through a proxy the test
 * can cut, so the supervisor reconnects while a {@code logs --tail} follower stays connected.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LogsE2EIT {
  private static final String NAME = "logs-e2e";
  private static final Pattern SUPERVISOR_OCSF = Pattern.compile(" openshell\\.ocsf - (.*?)(?: OCSF \\{.*)?$");
  private static final Pattern CLI_OCSF = Pattern.compile("\\[sandbox] openshell\\.ocsf: (.*)$");
  private static final Pattern RELAY = Pattern.compile("relay (open|closed) \\(channel_id=([0-9a-f-]+)\\)");

  private static SeverableProxy proxy;
  private static GatewayProcess gateway;
  private static Cli cli;
  private static Path supervisorLog;
  private static String sandboxId;

  @BeforeAll
  static void createSandboxWithOneSshSession() throws Exception {
    Path state = Files.createTempDirectory("openshell-logs-e2e");
    proxy = new SeverableProxy();
    gateway = GatewayProcess.start(state.resolve("gateway"), "sqlite::memory:",
        "--grpc-endpoint", "http://127.0.0.1:" + proxy.port());
    proxy.forwardTo(gateway.port);
    cli = new Cli(state.resolve("home"));
    cli.env.put("OPENSHELL_GATEWAY_ENDPOINT", gateway.endpoint());
    // create -- CMD runs CMD over ssh: this is the one SSH session of acceptance 1.
    Cli.Result created = cli.run("sandbox", "create", "--name", NAME, "--", "echo", "hello-logs");
    assertEquals(0, created.exitCode(), created + "\n" + gateway.logText());
    assertTrue(created.stdout().lines().anyMatch("hello-logs"::equals), created.toString());
    Cli.Result got = cli.run("sandbox", "get", NAME);
    sandboxId = got.stdout().lines().filter(l -> l.startsWith("Id:")).findFirst().orElseThrow().substring(3).trim();
    supervisorLog = state.resolve("gateway").resolve("sandboxes").resolve(sandboxId).resolve("supervisor.log");
  }

  @AfterAll
  static void stop() throws Exception {
    if (cli != null && gateway != null) cli.run("sandbox", "delete", NAME);
    if (gateway != null) gateway.close();
    if (proxy != null) proxy.close();
  }

  @Test
  @Order(1)
  void logsShowTheSessionEstablishedAndTheSshRelayOpenedAndClosedInOrder() throws Exception {
    List<String> seen = new ArrayList<>();
    Awaits.require(Duration.ofSeconds(60), "the ssh relay's closed event in 'openshell logs'", () -> {
      Cli.Result logs = run("logs", NAME, "--source", "sandbox");
      seen.clear();
      seen.addAll(logs.stdout().lines().toList());
      return ocsf(seen, CLI_OCSF).stream().anyMatch(m -> m.startsWith("relay closed"));
    });
    assertTrue(seen.stream().allMatch(l -> l.contains(" [sandbox] ")), "only sandbox lines with --source sandbox: " + seen);
    List<String> events = ocsf(seen, CLI_OCSF);
    int established = indexOf(events, "supervisor session established (session_id=");
    int open = indexOf(events, "relay open (channel_id=");
    assertTrue(established >= 0 && open > established, "session established before the relay opened: " + events);
    Matcher relay = RELAY.matcher(events.get(open));
    assertTrue(relay.find());
    int closed = events.indexOf("relay closed (channel_id=" + relay.group(2) + ")");
    assertTrue(closed > open, "the same relay closed after it opened: " + events);

    Cli.Result gatewayLines = run("logs", NAME, "--source", "gateway");
    assertTrue(gatewayLines.stdout().lines().anyMatch(l -> l.contains(" [gateway] ")
        && l.contains("supervisor session connected sandbox_id=" + sandboxId)), gatewayLines.toString());
    assertTrue(gatewayLines.stdout().lines().noneMatch(l -> l.contains(" [sandbox] ")), gatewayLines.toString());

    Cli.Result warnOnly = run("logs", NAME, "--level", "warn");
    assertTrue(warnOnly.stdout().lines().noneMatch(l -> l.contains(" INFO ")), warnOnly.toString());
    Cli.Result two = run("logs", NAME, "-n", "2");
    assertEquals(2, two.stdout().lines().count(), two.toString());
    Cli.Result future = run("logs", NAME, "--since", "2999-01-01T00:00:00Z");
    assertEquals("", future.stdout(), future.toString());
    Cli.Result badSource = run("logs", NAME, "--source", "pods");
    assertEquals(1, badSource.exitCode(), badSource.toString());
    assertTrue(badSource.stderr().contains("unknown log source 'pods': use gateway, sandbox or all"), badSource.toString());
  }

  @Test
  @Order(2)
  void tailFollowsLiveLinesAcrossASupervisorReconnectWithoutDuplicatesOrGaps() throws Exception {
    Path followed = cli.home.resolve("followed.txt");
    Process follower = startCli(followed, "logs", NAME, "--tail", "-n", "0", "--source", "sandbox");
    try {
      for (int i = 0; i < 3; i++) exec("before-" + i);
      long sessionsBefore = count(supervisorLines(), "supervisor session established");
      proxy.severAll();
      Awaits.require(Duration.ofSeconds(90), "the supervisor to reconnect through the proxy",
          () -> count(supervisorLines(), "supervisor session established") > sessionsBefore);
      for (int i = 0; i < 3; i++) exec("after-" + i);

      // Ground truth: the OCSF lines the supervisor wrote to its own log, in its order.
      Awaits.require(Duration.ofSeconds(60), "every supervisor OCSF line in the follower's output", () ->
          ocsf(read(followed), CLI_OCSF).size() >= ocsf(supervisorLines(), SUPERVISOR_OCSF).size()
              && ocsf(supervisorLines(), SUPERVISOR_OCSF).stream().filter(m -> m.startsWith("relay closed")).count() >= 7);
      List<String> expected = ocsf(supervisorLines(), SUPERVISOR_OCSF);
      List<String> got = ocsf(read(followed), CLI_OCSF);
      assertEquals(expected, got, "the follower saw exactly the supervisor's lines, in order");
      assertTrue(expected.stream().anyMatch(m -> m.startsWith("supervisor session failed, reconnecting")), expected.toString());
      List<String> relays = got.stream().filter(m -> m.startsWith("relay ")).toList();
      assertEquals(relays.size(), new HashSet<>(relays).size(), "no relay line twice: " + relays);
      assertEquals(14, relays.size(), "the create's ssh relay plus 6 exec relays, each opened and closed once: " + relays);
      assertTrue(follower.isAlive(), "the follower is still following");
    } finally {
      follower.destroy();
      follower.waitFor();
    }
  }

  @Test
  @Order(3)
  void watchPrintsPhaseChangesAndThePlatformEventWhenTheSupervisorDies() throws Exception {
    Path watched = cli.home.resolve("watched.txt");
    Process watcher = startCli(watched, "sandbox", "watch", NAME);
    try {
      Awaits.require(Duration.ofSeconds(60), "the current phase", () -> read(watched).stream().anyMatch(l -> l.contains(" PHASE READY")));
      Processes.kill(Processes.supervisorJvm(sandboxId), "KILL");
      Awaits.require(Duration.ofSeconds(90), "the restart event and READY again", () -> {
        List<String> lines = read(watched);
        int event = indexOf(lines, "EVENT Warning ProcessRestarted (process): supervisor process exited with status 137");
        int ready = -1;
        for (int i = Math.max(event, 0); i < lines.size(); i++) if (lines.get(i).contains("-> READY")) ready = i;
        return event >= 0 && ready > event;
      });
      assertTrue(read(watched).stream().anyMatch(l -> l.contains(" PHASE READY -> PROVISIONING")), read(watched).toString());
    } finally {
      watcher.destroy();
      watcher.waitFor();
    }
  }

  // --- helpers --------------------------------------------------------------------------------

  private static Cli.Result run(String... args) {
    Cli.Result result;
    try {
      result = cli.run(args);
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
    if (result.exitCode() != 0 && !List.of(args).contains("pods")) throw new AssertionError(String.join(" ", args) + ": " + result);
    return result;
  }

  private static void exec(String marker) throws Exception {
    Cli.Result r = cli.run("sandbox", "exec", "-n", NAME, "--", "echo", marker);
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals(marker + "\n", r.stdout());
  }

  /** The CLI in the background, stdout to a file (for --tail and watch). */
  private static Process startCli(Path stdout, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Repo.java(), "-Dopenshell.home=" + Repo.root(), "-jar",
        Repo.jar("client", "openshell-cli").toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(stdout.toFile())
        .redirectError(stdout.resolveSibling(stdout.getFileName() + ".err").toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    builder.environment().putAll(cli.env);
    return builder.start();
  }

  private static List<String> supervisorLines() {
    return read(supervisorLog);
  }

  private static List<String> read(Path file) {
    try {
      return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** The OCSF event messages in these lines (first line of each), in order. */
  private static List<String> ocsf(List<String> lines, Pattern pattern) {
    List<String> messages = new ArrayList<>();
    for (String line : lines) {
      Matcher m = pattern.matcher(line);
      if (m.find()) messages.add(m.group(1));
    }
    return messages;
  }

  private static int indexOf(List<String> lines, String prefixOrPart) {
    for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains(prefixOrPart)) return i;
    return -1;
  }

  private static long count(List<String> lines, String part) {
    return lines.stream().filter(l -> l.contains(part)).count();
  }
}
