<?php
/**
 * Removing the plugin removes its settings; it keeps nothing else.
 *
 * @package callswap
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;
delete_option( 'callswap_settings' );
