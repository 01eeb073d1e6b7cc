package io.openshell.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.openshell.client.connection.Environment;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  @TempDir
  Path home;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int cli(String... args) {
    Environment environment = new Environment(Map.of("XDG_STATE_HOME", home.resolve("state").toString()), home.toString());
    return Main.run(args, environment, new PrintWriter(out, true), new PrintWriter(err, true));
  }

  @Test
  void helpListsEveryCommandAlthoughACommandLineBuildsOnlyTheOneItNames() {
    assertEquals(0, cli("--help"));
    for (String command : new String[] {"status", "gateway", "sandbox", "forward", "logs", "vm"}) {
      assertTrue(out.toString().contains("\n  " + command + " "), command + " missing from\n" + out);
    }
  }

  @Test
  void aMistypedSubcommandStillGetsASuggestion() {
    assertEquals(2, cli("sandbox", "lisst"));
    assertTrue(err.toString().contains("Did you mean: sandbox list"), err.toString());
  }

  @Test
  void anUnknownCommandIsRefusedWithTheUsage() {
    assertEquals(2, cli("sandboxes"));
    assertTrue(err.toString().contains("Unmatched argument at index 0: 'sandboxes'"), err.toString());
    assertTrue(err.toString().contains("Did you mean: openshell sandbox?"), err.toString());
  }

  @Test
  void statusWithNothingListeningSaysHowToStartAGateway() {
    assertEquals(1, cli("status", "--gateway-endpoint", "http://127.0.0.1:1"));
    assertTrue(err.toString().contains("error: cannot reach the gateway at http://127.0.0.1:1 (is it running? start one with 'openshell gateway start'"),
        err.toString());
  }

  @Test
  void statusRefusesAnEndpointItCannotDial() {
    assertEquals(1, cli("status", "--gateway-endpoint", "ftp://127.0.0.1:21"));
    assertTrue(err.toString().contains("unsupported gateway endpoint 'ftp://127.0.0.1:21': use http://host:port"), err.toString());
  }
}
