package io.openshell.gateway.sandbox;

import io.openshell.protocol.compute.v1.ComputeDriver;

/** Lets tests in other packages use the scripted driver. */
public final class ScriptedDriverAccess {
  private final ScriptedDriver driver = new ScriptedDriver();

  public ComputeDriver driver() {
    return driver;
  }

  /** The supervisor credential the sandbox handed this driver at create. */
  public String credential(String sandboxId) {
    return driver.credential(sandboxId);
  }

  public void acceptNext() throws InterruptedException {
    driver.nextCall().outcome().complete(null);
  }
}
