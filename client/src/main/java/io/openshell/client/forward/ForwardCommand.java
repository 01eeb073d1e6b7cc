package io.openshell.client.forward;

import io.openshell.client.GatewayOptions;
import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.ssh.SandboxSsh;
import io.openshell.client.ssh.SshCommandLine;
import io.openshell.client.ssh.SshProcess;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code openshell forward start|stop|list}: local ports that lead to the same port inside a sandbox. */
@Command(name = "forward", description = "Forward local ports to ports inside sandboxes (ssh -L through the gateway).",
    subcommands = {ForwardCommand.Start.class, ForwardCommand.Stop.class, ForwardCommand.ListCommand.class})
public final class ForwardCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static Forwards forwards(Environment environment) {
    return new Forwards(records(environment), environment);
  }

  static ForwardRecords records(Environment environment) {
    return new ForwardRecords(environment.stateDir().resolve("forwards"));
  }

  @Command(name = "start", description = "Forward [ADDRESS:]PORT here to 127.0.0.1:PORT in the sandbox.")
  static final class Start implements Callable<Integer> {
    private final Environment environment;

    @Mixin
    GatewayOptions gateway;

    @Parameters(index = "0", paramLabel = "[ADDRESS:]PORT")
    String forward;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @Option(names = {"-d", "--background"}, description = "Run in the background (stop with 'openshell forward stop PORT NAME').")
    boolean background;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Start(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() {
      ForwardSpec forwardSpec = ForwardSpec.parse(forward);
      PrintWriter err = spec.commandLine().getErr();
      Forwards forwards = forwards(environment);
      SshCommandLine ssh = SandboxSsh.prepare(gateway.choose(environment, err), environment, name);
      if (background) {
        ForwardRecords.Forward started = forwards.startInBackground(ssh, name, forwardSpec);
        spec.commandLine().getOut().println("Forwarding " + forwardSpec + " to sandbox " + name + " (pid " + started.pid() + ")");
        spec.commandLine().getOut().flush();
        return 0;
      }
      forwards.liveOnPort(forwardSpec.port()).ifPresent(existing -> {
        throw new CliException("port " + forwardSpec.port() + " is already forwarded to sandbox '" + existing.sandbox() + "'");
      });
      err.println("Forwarding " + forwardSpec + " to sandbox " + name + " (Ctrl-C to stop)");
      err.flush();
      return SshProcess.attached(environment, ssh.forward(forwardSpec.sshBindAddress(), forwardSpec.port()));
    }
  }

  @Command(name = "stop", description = "Stop a background forward.")
  static final class Stop implements Callable<Integer> {
    private final Environment environment;

    @Parameters(index = "0", paramLabel = "PORT")
    int port;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Stop(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() {
      ForwardRecords.Forward forward = records(environment).load(name, port)
          .orElseThrow(() -> new CliException("no background forward of port " + port + " to sandbox '" + name + "'"));
      boolean wasRunning = forwards(environment).stop(forward);
      spec.commandLine().getOut().println("Stopped forward " + forward.spec() + " to sandbox " + name
          + (wasRunning ? "" : " (its ssh had already exited)"));
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  @Command(name = "list", description = "List background forwards.")
  static final class ListCommand implements Callable<Integer> {
    private final Environment environment;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    ListCommand(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() {
      List<ForwardRecords.Forward> all = records(environment).all();
      PrintWriter out = spec.commandLine().getOut();
      out.printf("%-32s %-24s %-8s %s%n", "SANDBOX", "LISTEN", "PID", "STATUS");
      for (ForwardRecords.Forward forward : all) {
        out.printf("%-32s %-24s %-8d %s%n", forward.sandbox(), forward.spec(), forward.pid(),
            forward.process().isPresent() ? "running" : "exited");
      }
      out.flush();
      return 0;
    }
  }
}
