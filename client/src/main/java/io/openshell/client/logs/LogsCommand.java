package io.openshell.client.logs;

import io.openshell.client.GatewayOptions;
import io.openshell.client.connection.Api;
import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.protocol.v1.GetSandboxLogsRequest;
import io.openshell.protocol.v1.GetSandboxLogsResponse;
import io.openshell.protocol.v1.GetSandboxRequest;
import io.openshell.protocol.v1.ListSandboxesRequest;
import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxLogLine;
import io.openshell.protocol.v1.SandboxStreamEvent;
import io.openshell.protocol.v1.WatchSandboxRequest;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.pekko.stream.javadsl.Sink;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code openshell logs [NAME] [-n N] [--tail] [--since 5m] [--source gateway|sandbox|all] [--level info]}. */
@Command(name = "logs", description = "Show a sandbox's logs: its supervisor's lines (source sandbox) and the gateway's lines about it"
    + " (source gateway), oldest first. --tail keeps following.")
public final class LogsCommand implements Callable<Integer> {
  private static final Duration CALL = Duration.ofSeconds(60);

  private final Environment environment;

  @Mixin
  GatewayOptions gateway;

  @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "Sandbox name (default: the only sandbox, if there is one).")
  String name;

  @Option(names = {"-n", "--lines"}, defaultValue = "200", description = "How many of the most recent lines (default ${DEFAULT-VALUE}; 0 = all the gateway keeps).")
  int lines;

  @Option(names = {"--tail", "-f", "--follow"}, description = "Keep printing new lines as they arrive (Ctrl-C to stop).")
  boolean tail;

  @Option(names = "--since", paramLabel = "WHEN", description = "Only lines since then: 30s, 5m, 2h, 1d, or an ISO-8601 instant.")
  String since;

  @Option(names = "--source", defaultValue = "all", paramLabel = "SOURCE", description = "gateway, sandbox or all (default).")
  String source;

  @Option(names = "--level", paramLabel = "LEVEL", description = "Minimum level: trace, debug, info, warn or error.")
  String level;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  LogsCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() {
    if (lines < 0) throw new CliException("-n must be 0 or more", 2);
    PrintWriter out = spec.commandLine().getOut();
    long sinceMs = since == null ? 0 : LogFormat.sinceMs(since, System.currentTimeMillis());
    try (Api api = gateway.connect(environment, spec.commandLine().getErr())) {
      Sandbox sandbox = resolve(api);
      if (!tail) {
        GetSandboxLogsResponse response = api.await(api.client().getSandboxLogs(GetSandboxLogsRequest.newBuilder()
            .setSandboxId(sandbox.getId()).setLines(lines).setSinceMs(sinceMs).addSources(source)
            .setMinLevel(level == null ? "" : level).build()), CALL);
        for (SandboxLogLine line : response.getLogsList()) out.println(LogFormat.line(line));
        out.flush();
        return 0;
      }
      var followed = api.client().watchSandbox(WatchSandboxRequest.newBuilder().setId(sandbox.getId())
              .setFollowLogs(true).setLogTailLines(lines == 0 ? Integer.MAX_VALUE : lines).setLogSinceMs(sinceMs)
              .addLogSources(source).setLogMinLevel(level == null ? "" : level).build())
          .runWith(Sink.foreach(event -> print(event, out)), api.system());
      try {
        followed.toCompletableFuture().get();
      } catch (ExecutionException e) {
        throw api.describe(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return 0;
    }
  }

  private void print(SandboxStreamEvent event, PrintWriter out) {
    if (event.hasLog()) {
      out.println(LogFormat.line(event.getLog()));
    } else if (event.hasWarning()) {
      spec.commandLine().getErr().println("warning: " + event.getWarning().getMessage());
      spec.commandLine().getErr().flush();
    }
    out.flush();
  }

  private Sandbox resolve(Api api) {
    if (name != null) {
      return api.await(api.client().getSandbox(GetSandboxRequest.newBuilder().setName(name).build()), CALL).getSandbox();
    }
    List<Sandbox> all = api.await(api.client().listSandboxes(ListSandboxesRequest.newBuilder().setLimit(2).build()), CALL)
        .getSandboxesList();
    if (all.size() == 1) return all.get(0);
    throw new CliException(all.isEmpty() ? "there are no sandboxes; create one with 'openshell sandbox create'"
        : "there are several sandboxes; name one: openshell logs NAME", 2);
  }
}
