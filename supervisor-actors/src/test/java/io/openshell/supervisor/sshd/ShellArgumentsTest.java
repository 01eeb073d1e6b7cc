package io.openshell.supervisor.sshd;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ShellArgumentsTest {

  @Test
  void anOrdinaryCommandIsOneArgument() {
    assertEquals(List.of("/bin/bash", "-lc", "echo hi"), ShellArguments.forCommand("/bin/bash", "echo hi"));
    assertEquals(List.of("/bin/bash", "-l"), ShellArguments.forCommand("/bin/bash", null));
  }

  @Test
  void piecesStayUnderTheArgumentLimitAndNeverSplitACharacter() {
    String command = "\u00e4".repeat(70_000) + "\uD83D\uDE00".repeat(30_000) + "z";
    List<String> pieces = ShellArguments.pieces(command);
    assertTrue(pieces.size() > 1);
    for (String piece : pieces) {
      assertTrue(piece.getBytes(StandardCharsets.UTF_8).length <= ShellArguments.MAX_ARGUMENT_BYTES);
      assertFalse(Character.isLowSurrogate(piece.charAt(0)), "a piece starts inside a surrogate pair");
    }
    assertEquals(command, String.join("", pieces));
  }

  @Test
  void aCommandOverTheKernelsSingleArgumentLimitRunsInBashWithItsOutputIntact() throws Exception {
    // 256 KiB: twice what Linux allows in one argument; the trailing blank lines must survive the join.
    String filler = "a".repeat(256 * 1024 - 40);
    String command = "x=" + filler + "; echo ${#x}; printf '\u00e4\\n\\n'";
    ProcessBuilder builder = new ProcessBuilder(ShellArguments.forCommand("/bin/bash", command)).redirectErrorStream(true);
    Process bash = builder.start();
    String output = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(bash.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, bash.exitValue(), output);
    assertEquals(filler.length() + "\n\u00e4\n\n", output);
  }
}
