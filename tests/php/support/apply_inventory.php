<?php
/*
 * Applies an INVENTORY as the callback does, in a process of its own, on the double's state named by
 * JEEDOM_DOUBLE_STATE (loaded now, written back at the end):
 *   php apply_inventory.php <miniature Jeedom root> <inventory.json>
 */
require $argv[1] . '/core/php/core.inc.php';
require_once $argv[1] . '/plugins/enphase/core/class/enphase.class.php';
enphaseInventory::apply(json_decode(file_get_contents($argv[2]), true));
echo "applied\n";
