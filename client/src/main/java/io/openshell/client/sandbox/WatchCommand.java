package io.openshell.client.sandbox;

import io.openshell.client.GatewayOptions;
import io.openshell.client.connection.Api;
import io.openshell.client.connection.Environment;
import io.openshell.client.logs.LogFormat;
import io.openshell.protocol.v1.GetSandboxRequest;
import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxPhase;
import io.openshell.protocol.v1.SandboxStreamEvent;
import io.openshell.protocol.v1.WatchSandboxRequest;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.pekko.stream.javadsl.Sink;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code openshell sandbox watch NAME}: phase changes and platform events as they happen, until the sandbox is gone. */
@Command(name = "watch", description = "Print a sandbox's phase changes and platform events as they happen (Ctrl-C to stop).")
final class WatchCommand implements Callable<Integer> {
  private static final Duration CALL = Duration.ofSeconds(60);

  private final Environment environment;

  @Mixin
  GatewayOptions gateway;

  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Option(names = "--events", defaultValue = "10", description = "Recent platform events to print first (default ${DEFAULT-VALUE}).")
  int eventTail;

  @Option(names = "--until-ready", description = "Stop once the sandbox is Ready or in Error.")
  boolean untilReady;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  WatchCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Api api = gateway.connect(environment, spec.commandLine().getErr())) {
      Sandbox sandbox = api.await(api.client().getSandbox(GetSandboxRequest.newBuilder().setName(name).build()), CALL).getSandbox();
      SandboxPhase[] last = {null};
      var watch = api.client().watchSandbox(WatchSandboxRequest.newBuilder().setId(sandbox.getId())
              .setFollowStatus(true).setFollowEvents(true).setEventTail(Math.max(0, eventTail)).setStopOnTerminal(untilReady).build())
          .runWith(Sink.foreach(event -> {
            print(event, last, out);
            out.flush();
          }), api.system());
      try {
        watch.toCompletableFuture().get();
      } catch (ExecutionException e) {
        throw api.describe(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!untilReady) out.println(Instant.now() + " sandbox " + name + " is gone");
      out.flush();
      return 0;
    }
  }

  private void print(SandboxStreamEvent event, SandboxPhase[] last, PrintWriter out) {
    if (event.hasSandbox()) {
      Sandbox s = event.getSandbox();
      if (s.getPhase() == last[0]) return;
      String from = last[0] == null ? "" : Progress.phaseName(last[0]) + " -> ";
      last[0] = s.getPhase();
      out.println(Instant.now() + " PHASE " + from + Progress.phaseName(s.getPhase()) + Progress.detail(s));
    } else if (event.hasEvent()) {
      out.println(LogFormat.event(event.getEvent()));
    } else if (event.hasWarning()) {
      out.println(Instant.now() + " WARNING " + event.getWarning().getMessage());
    }
  }
}
