<?php
/*
 * Stands in for the daemon's socket in PHP tests: listens on the Unix socket given (prints "ready" once it
 * does), and for each answer given (a JSON file holding a list) takes one connection, records the line it
 * received and answers that line. An answer of null reads the message and never answers (the PHP side must
 * time out).
 *   php daemon_stand_in.php <answers.json> <received.jsonl> <socket path>
 */
$answers = json_decode(file_get_contents($argv[1]), true);
$received = $argv[2];
@unlink($argv[3]);
$server = stream_socket_server('unix://' . $argv[3], $errno, $errstr);
if ($server === false) {
	fwrite(STDOUT, "cannot listen: $errstr\n");
	exit(1);
}
fwrite(STDOUT, "ready\n");
fflush(STDOUT);
foreach ($answers as $answer) {
	$peer = @stream_socket_accept($server, 30);
	if ($peer === false) {
		exit(1);
	}
	$line = fgets($peer);
	file_put_contents($received, rtrim((string) $line, "\n") . "\n", FILE_APPEND);
	if ($answer === null) {
		sleep(5);
	} else {
		fwrite($peer, json_encode($answer) . "\n");
	}
	fclose($peer);
}
