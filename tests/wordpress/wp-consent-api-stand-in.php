<?php
/**
 * Plugin Name: WP Consent API (test stand-in)
 * Description: Prints the browser side of the WP Consent API (the file the test names in
 * CALLSWAP_TEST_WP_CONSENT_API_JS) in the head of every page, as the wp-consent-api plugin
 * does. A consent banner plugin would call wp_set_consent(); the test calls it as one would.
 */

add_action(
	'wp_head',
	function () {
		// A file of the test's own: printed as it is.
		echo '<script>' . file_get_contents( CALLSWAP_TEST_WP_CONSENT_API_JS ) . '</script>'; // phpcs:ignore
	},
	1
);
