<?php
/**
 * Plugin Name:       callswap
 * Description:       GDPR-first call tracking: the right phone number for every visitor. Shows each marketing source's static number without consent and a dynamic number from a pool only with consent (WP Consent API, IAB TCF, Google Consent Mode and the common banners).
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * Author:            The callswap authors
 * License:           Apache-2.0
 * License URI:       https://www.apache.org/licenses/LICENSE-2.0
 * Text Domain:       callswap
 *
 * @package callswap
 */

defined( 'ABSPATH' ) || exit;

const CALLSWAP_PLUGIN_VERSION = '0.1.0';
const CALLSWAP_OPTION         = 'callswap_settings';
// The SDK's default opt-out attribute (the site config's swap.noswap_attribute).
const CALLSWAP_NOSWAP_ATTRIBUTE = 'data-callswap-noswap';

require_once __DIR__ . '/includes/settings.php';

/**
 * The saved settings, with every key present.
 *
 * @return array{server_url: string, site_id: string, noswap_selectors: string}
 */
function callswap_settings() {
	$saved = get_option( CALLSWAP_OPTION, array() );
	return array_merge(
		array(
			'server_url'       => '',
			'site_id'          => '',
			'noswap_selectors' => '',
		),
		is_array( $saved ) ? $saved : array()
	);
}

/**
 * Loads the SDK from the callswap server on every public page, asynchronously: it never
 * holds up rendering, and the page's own numbers stay until it has decided.
 */
function callswap_enqueue_script() {
	$settings = callswap_settings();
	if ( '' === $settings['server_url'] || '' === $settings['site_id'] ) {
		return;
	}
	// WordPress 6.3 added loading strategies; on older versions the tag gets `async` in
	// callswap_script_tag(). In the footer, so the selectors to leave alone are already in
	// the page when they are marked.
	$args = version_compare( get_bloginfo( 'version' ), '6.3', '>=' )
		? array(
			'strategy'  => 'async',
			'in_footer' => true,
		)
		: true;
	// No version query: the server decides the file's caching, and the URL stays the one
	// the site's Content-Security-Policy names.
	wp_enqueue_script( 'callswap', $settings['server_url'] . '/callswap.js', array(), null, $args ); // phpcs:ignore WordPress.WP.EnqueuedResourceParameters.MissingVersion
	$selectors = callswap_selector_list( $settings['noswap_selectors'] );
	if ( $selectors ) {
		// The SDK skips anything under its opt-out attribute; mark what the owner listed.
		wp_add_inline_script(
			'callswap',
			sprintf(
				'document.querySelectorAll(%s).forEach(function (e) { e.setAttribute(%s, ""); });',
				wp_json_encode( implode( ', ', $selectors ) ),
				wp_json_encode( CALLSWAP_NOSWAP_ATTRIBUTE )
			),
			'before'
		);
	}
}
add_action( 'wp_enqueue_scripts', 'callswap_enqueue_script' );

/**
 * The SDK reads its site and server from the script tag's data attributes, which
 * wp_enqueue_script cannot set.
 *
 * @param string $tag    The script tag(s) WordPress prints for a handle.
 * @param string $handle The script's handle.
 * @return string
 */
function callswap_script_tag( $tag, $handle ) {
	if ( 'callswap' !== $handle ) {
		return $tag;
	}
	$settings   = callswap_settings();
	$attributes = sprintf(
		' data-site="%s" data-server="%s" referrerpolicy="no-referrer"',
		esc_attr( $settings['site_id'] ),
		esc_attr( $settings['server_url'] )
	);
	if ( ! preg_match( '/<script[^>]*\sid=["\']callswap-js["\'][^>]*>/', $tag, $match ) ) {
		return $tag;
	}
	$opening = $match[0];
	if ( false === strpos( $opening, ' async' ) ) {
		$attributes .= ' async'; // WordPress before 6.3 has no loading strategies.
	}
	return str_replace( $opening, substr( $opening, 0, -1 ) . $attributes . '>', $tag );
}
add_filter( 'script_loader_tag', 'callswap_script_tag', 10, 2 );

// The SDK asks for consent through the WP Consent API (the 'marketing' category) when a
// consent plugin provides it; say so, so the API does not list this plugin as non-compliant.
add_filter( 'wp_consent_api_registered_' . plugin_basename( __FILE__ ), '__return_true' );

/**
 * Tells consent plugins about the one cookie the SDK sets, and only with marketing consent.
 */
function callswap_register_cookie_info() {
	if ( ! function_exists( 'wp_add_cookie_info' ) ) {
		return;
	}
	wp_add_cookie_info(
		'callswap',
		'callswap',
		'marketing',
		__( 'Until the tracking number is released (30 minutes without activity by default)', 'callswap' ),
		__( 'Shows the same tracking number on every page of a visit, so a call can be tied to it', 'callswap' ),
		// Pseudonymous, but personal data under the GDPR all the same.
		__( 'A random session id and the marketing source of the visit', 'callswap' ),
		false,
		false,
		'HTTP'
	);
}
add_action( 'plugins_loaded', 'callswap_register_cookie_info' );
