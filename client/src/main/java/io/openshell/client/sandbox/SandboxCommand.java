package io.openshell.client.sandbox;

import io.openshell.client.GatewayOptions;
import io.openshell.client.connection.Api;
import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.connection.GatewaySelection;
import io.openshell.client.forward.ForwardCommand;
import io.openshell.client.forward.ForwardRecords;
import io.openshell.client.forward.ForwardSpec;
import io.openshell.client.forward.Forwards;
import io.openshell.client.ssh.ManagedSshConfig;
import io.openshell.client.sshsession.SshSessions;
import io.openshell.client.ssh.ConnectCommand;
import io.openshell.client.ssh.DownloadCommand;
import io.openshell.client.ssh.SandboxSsh;
import io.openshell.client.ssh.SshCommandLine;
import io.openshell.client.ssh.SshConfigCommand;
import io.openshell.client.ssh.SshProcess;
import io.openshell.client.ssh.Transfers;
import io.openshell.client.ssh.UploadCommand;
import io.openshell.protocol.v1.*;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
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
import io.openshell.client.exec.ExecCommand;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code openshell sandbox create|get|list|delete}, and the ssh-based connect|upload|download|ssh-config. */
@Command(name = "sandbox", description = "Create, inspect, use and delete sandboxes.",
    subcommands = {SandboxCommand.Create.class, SandboxCommand.Get.class, SandboxCommand.ListCommand.class, SandboxCommand.Delete.class,
        ExecCommand.class, WatchCommand.class, ConnectCommand.class, UploadCommand.class, DownloadCommand.class, SshConfigCommand.class})
public final class SandboxCommand implements Runnable {
  private static final Duration CALL = Duration.ofSeconds(120);

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * What this machine keeps about a deleted sandbox: its background forwards are stopped (their relay is
   * gone), its cached SSH session and its managed ssh config block removed. Failures only warn.
   */
  static void forgetLocally(Environment environment, GatewaySelection.Choice gateway, String name, PrintWriter err) {
    Forwards forwards = ForwardCommand.forwards(environment);
    for (ForwardRecords.Forward forward : forwards.to(name)) forwards.stop(forward);
    SshSessions.inStateDir(environment).forget(gateway.name(), name);
    try {
      ManagedSshConfig.of(environment).remove(ManagedSshConfig.alias(name));
    } catch (IOException e) {
      err.println("warning: could not remove Host " + ManagedSshConfig.alias(name) + " from the managed ssh config: " + e.getMessage());
    }
  }

  @Command(name = "create", description = "Create a sandbox, wait until it is ready, then run CMD (or a shell) in it over ssh.")
  static final class Create implements Callable<Integer> {
    private final Environment environment;

    @Mixin
    GatewayOptions gateway;

    @Option(names = "--name", description = "Sandbox name (default: a generated adjective-noun).")
    String name;

    @Option(names = "--upload", paramLabel = "LOCAL[:DEST]", description = "Copy LOCAL into the sandbox (into DEST, default "
        + Transfers.DEFAULT_UPLOAD_DIR + ") before CMD runs.")
    String upload;

    @Option(names = "--forward", paramLabel = "[ADDRESS:]PORT", description = "Forward this local port to the sandbox's, in the background.")
    String forward;

    @Option(names = "--no-keep", description = "Delete the sandbox after CMD finishes (also when it fails).")
    boolean noKeep;

    @Option(names = "--tty", negatable = true, description = "Give CMD a terminal (default: when stdin and stdout are terminals).")
    Boolean tty;

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
      ForwardSpec forwardSpec = forward == null ? null : ForwardSpec.parse(forward);
      // Java 17: a console exists exactly when stdin and stdout are both terminals.
      boolean terminal = System.console() != null;
      boolean shell = command.isEmpty() && (tty != null ? tty : terminal);
      GatewaySelection.Choice choice = gateway.choose(environment, err);
      try (Api api = Api.to(choice, environment)) {
        long started = System.nanoTime();
        Sandbox created = api.await(api.client().createSandbox(CreateSandboxRequest.newBuilder()
            .setSpec(SandboxSpec.getDefaultInstance()).setName(name == null ? "" : name).build()), CALL).getSandbox();
        try {
          Sandbox ready = watchUntilReady(api, created, started, timeout, err);
          out.println("Created sandbox: " + ready.getName());
          out.flush();
          if (command.isEmpty() && !shell && upload == null && forwardSpec == null) return 0;
          SshCommandLine ssh = SandboxSsh.prepare(choice, environment, ready.getName());
          if (upload != null) {
            int uploaded = upload(ssh, err);
            if (uploaded != 0) return uploaded;
          }
          if (forwardSpec != null) {
            ForwardRecords.Forward forwarding = ForwardCommand.forwards(environment).startInBackground(ssh, ready.getName(), forwardSpec);
            err.println("Forwarding " + forwardSpec + " to sandbox " + ready.getName() + " (pid " + forwarding.pid() + ")");
          }
          err.flush();
          out.flush();
          if (!command.isEmpty()) return SshProcess.attached(environment, ssh.run(command, tty != null ? tty : terminal));
          return shell ? SshProcess.attached(environment, ssh.interactiveShell()) : 0;
        } finally {
          if (noKeep) discard(api, choice, created, err);
        }
      }
    }

    /** {@code --no-keep}: runs in a finally, so it reports its own failure rather than hiding the command's. */
    private void discard(Api api, GatewaySelection.Choice choice, Sandbox created, PrintWriter err) {
      try {
        api.await(api.client().deleteSandbox(DeleteSandboxRequest.newBuilder().setName(created.getName()).build()), CALL);
        forgetLocally(environment, choice, created.getName(), err);
        err.println("Deleted sandbox: " + created.getName());
      } catch (CliException e) {
        err.println("error: could not delete sandbox '" + created.getName() + "': " + e.getMessage());
      }
      err.flush();
    }

    /** {@code --upload LOCAL[:DEST]}: the first colon separates the destination. */
    private int upload(SshCommandLine ssh, PrintWriter err) {
      int colon = upload.indexOf(':');
      String local = colon < 0 ? upload : upload.substring(0, colon);
      String destination = colon < 0 || colon == upload.length() - 1 ? Transfers.DEFAULT_UPLOAD_DIR : upload.substring(colon + 1);
      err.flush();
      int exit = Transfers.upload(environment, ssh, Path.of(local), destination);
      if (exit == 0) err.println("Uploaded " + local + " to " + destination);
      else err.println("error: the upload of " + local + " failed (exit " + exit + ")");
      err.flush();
      return exit;
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
      GatewaySelection.Choice choice = gateway.choose(environment, spec.commandLine().getErr());
      try (Api api = Api.to(choice, environment)) {
        for (String name : names) {
          try {
            api.await(api.client().deleteSandbox(DeleteSandboxRequest.newBuilder().setName(name).build()), CALL);
            forgetLocally(environment, choice, name, spec.commandLine().getErr());
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
