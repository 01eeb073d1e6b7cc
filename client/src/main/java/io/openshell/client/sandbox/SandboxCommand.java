package io.openshell.client.sandbox;

import io.openshell.client.GatewayOptions;
import io.openshell.client.connection.Api;
import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.ssh.ConnectCommand;
import io.openshell.client.ssh.DownloadCommand;
import io.openshell.client.ssh.SshConfigCommand;
import io.openshell.client.ssh.UploadCommand;
import io.openshell.protocol.v1.*;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Sink;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code openshell sandbox create|get|list|delete}, and the ssh-based connect|upload|download|ssh-config. */
@Command(name = "sandbox", description = "Create, inspect, use and delete sandboxes.",
    subcommands = {SandboxCommand.Create.class, SandboxCommand.Get.class, SandboxCommand.ListCommand.class, SandboxCommand.Delete.class,
        ConnectCommand.class, UploadCommand.class, DownloadCommand.class, SshConfigCommand.class})
public final class SandboxCommand implements Runnable {
  private static final Duration CALL = Duration.ofSeconds(120);

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "create", description = "Create a sandbox and wait until it is ready.")
  static final class Create implements Callable<Integer> {
    private final Environment environment;

    @Mixin
    GatewayOptions gateway;

    @Option(names = "--name", description = "Sandbox name (default: a generated adjective-noun).")
    String name;

    @Option(names = "--no-keep", description = "Delete the sandbox after the command finishes.")
    boolean noKeep;

    @Parameters(arity = "0..*", paramLabel = "CMD", description = "Command to run in the sandbox (after --).")
    List<String> command = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Create(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      Duration timeout = Duration.ofSeconds(environment.get("OPENSHELL_PROVISION_TIMEOUT").map(Long::parseLong).orElse(300L));
      try (Api api = gateway.connect(environment, err)) {
        long started = System.nanoTime();
        Sandbox created = api.await(api.client().createSandbox(CreateSandboxRequest.newBuilder()
            .setSpec(SandboxSpec.getDefaultInstance()).setName(name == null ? "" : name).build()), CALL).getSandbox();
        Sandbox ready = watchUntilReady(api, created, started, timeout, err);
        out.println("Created sandbox: " + ready.getName());
        out.flush();
        if (command.isEmpty()) return 0;
        try {
          return runCommand(ready);
        } finally {
          if (noKeep) {
            api.await(api.client().deleteSandbox(DeleteSandboxRequest.newBuilder().setName(ready.getName()).build()), CALL);
            err.println("Deleted sandbox: " + ready.getName());
            err.flush();
          }
        }
      }
    }

    /** Follows WatchSandbox until READY; ERROR and the provision timeout fail with the last status. */
    private Sandbox watchUntilReady(Api api, Sandbox created, long started, Duration timeout, PrintWriter err) {
      Sandbox[] last = {created};
      SandboxPhase[] printed = {null};
      var watch = api.client().watchSandbox(WatchSandboxRequest.newBuilder().setId(created.getId())
              .setFollowStatus(true).setStopOnTerminal(true).build())
          .map(SandboxStreamEvent::getSandbox)
          .takeWithin(timeout)
          .runWith(Sink.foreach(sandbox -> {
            last[0] = sandbox;
            if (sandbox.getPhase() != printed[0]) {
              printed[0] = sandbox.getPhase();
              err.println(Progress.line((System.nanoTime() - started) / 1_000_000, sandbox));
              err.flush();
            }
          }), api.system());
      try {
        watch.toCompletableFuture().get(timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        throw api.describe(e.getCause());
      } catch (java.util.concurrent.TimeoutException e) {
        // handled below as a provision timeout
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted");
      }
      Sandbox sandbox = last[0];
      if (sandbox.getPhase() == SandboxPhase.SANDBOX_PHASE_READY) return sandbox;
      if (sandbox.getPhase() == SandboxPhase.SANDBOX_PHASE_ERROR) {
        throw new CliException("sandbox '" + sandbox.getName() + "' failed" + Progress.detail(sandbox));
      }
      throw new CliException("sandbox '" + sandbox.getName() + "' was not ready after " + timeout.toSeconds()
          + " s (OPENSHELL_PROVISION_TIMEOUT); last phase " + Progress.phaseName(sandbox.getPhase()) + Progress.detail(sandbox));
    }

    /** Running a command needs SSH through the gateway's tunnel (the sandbox SSH work); not in this version. */
    private int runCommand(Sandbox sandbox) {
      throw new CliException("running a command in a sandbox is not supported by this version yet; the sandbox '"
          + sandbox.getName() + "' is ready", 2);
    }
  }

  @Command(name = "get", description = "Show one sandbox.")
  static final class Get implements Callable<Integer> {
    private final Environment environment;

    @Mixin
    GatewayOptions gateway;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Get(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() {
      try (Api api = gateway.connect(environment, spec.commandLine().getErr())) {
        Sandbox sandbox = api.await(api.client().getSandbox(GetSandboxRequest.newBuilder().setName(name).build()), CALL).getSandbox();
        PrintWriter out = spec.commandLine().getOut();
        out.println("Name:     " + sandbox.getName());
        out.println("Id:       " + sandbox.getId());
        out.println("Phase:    " + Progress.phaseName(sandbox.getPhase()));
        out.println("Created:  " + Instant.ofEpochMilli(sandbox.getCreatedAtMs()));
        if (!sandbox.getStatus().getAgentPod().isEmpty()) out.println("Instance: " + sandbox.getStatus().getAgentPod());
        out.println("Conditions:");
        for (SandboxCondition c : sandbox.getStatus().getConditionsList()) {
          out.println("  " + c.getType() + "=" + c.getStatus() + "  " + c.getReason() + (c.getMessage().isEmpty() ? "" : ": " + c.getMessage()));
        }
        out.flush();
        return 0;
      }
    }
  }

  @Command(name = "list", description = "List sandboxes.")
  static final class ListCommand implements Callable<Integer> {
    private final Environment environment;

    @Mixin
    GatewayOptions gateway;

    @Option(names = "--names", description = "Only names, one per line.")
    boolean namesOnly;

    @Option(names = "--limit", defaultValue = "0", description = "At most this many (0: the gateway's default, 100).")
    int limit;

    @Option(names = "--offset", defaultValue = "0")
    int offset;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    ListCommand(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() {
      try (Api api = gateway.connect(environment, spec.commandLine().getErr())) {
        List<Sandbox> sandboxes = api.await(api.client().listSandboxes(ListSandboxesRequest.newBuilder()
            .setLimit(limit).setOffset(offset).build()), CALL).getSandboxesList();
        PrintWriter out = spec.commandLine().getOut();
        if (namesOnly) {
          sandboxes.forEach(s -> out.println(s.getName()));
        } else {
          out.printf("%-32s %-13s %s%n", "NAME", "PHASE", "CREATED");
          for (Sandbox s : sandboxes) {
            out.printf("%-32s %-13s %s%n", s.getName(), Progress.phaseName(s.getPhase()), Instant.ofEpochMilli(s.getCreatedAtMs()));
          }
        }
        out.flush();
        return 0;
      }
    }
  }

  @Command(name = "delete", description = "Delete sandboxes (and their processes and files).")
  static final class Delete implements Callable<Integer> {
    private final Environment environment;

    @Mixin
    GatewayOptions gateway;

    @Parameters(arity = "1..*", paramLabel = "NAME")
    List<String> names;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Delete(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() {
      int exit = 0;
      try (Api api = gateway.connect(environment, spec.commandLine().getErr())) {
        for (String name : names) {
          try {
            api.await(api.client().deleteSandbox(DeleteSandboxRequest.newBuilder().setName(name).build()), CALL);
            spec.commandLine().getOut().println("Deleted sandbox: " + name);
          } catch (CliException e) {
            spec.commandLine().getErr().println("error: " + e.getMessage());
            exit = 1;
          }
        }
      }
      spec.commandLine().getOut().flush();
      spec.commandLine().getErr().flush();
      return exit;
    }
  }
}
